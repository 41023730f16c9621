"""Upload: many files at once, each with a visible outcome; ingest runs as a background job."""
import streamlit as st

from components.app import get_service, reviewer
from components.ingest import outcome_table, release_uploads
from components.jobs import watch_jobs

service = get_service()
JOB_KEY = "upload.job_ids"
st.title("Upload media")
st.caption(
    "Images (JPEG, PNG, WebP, GIF), audio (WAV, MP3, FLAC, M4A, OGG) and video (MP4, MOV, WebM, MKV). "
    f"Up to {service.config.max_upload_mb:.0f} MB a file and {service.config.max_files_per_batch:d} files at once. "
    "Files are checked by their content and stored once."
)
st.caption("New images are labeled as soon as they are ingested (Settings: Auto-label after upload)."
           if service.settings.effective().auto_label else
           "New images are not labeled after upload (Settings: Auto-label after upload is off); label them on Images.")

# No form: choosing files reruns the page, so a "choose files first" warning never outlives the choice.
batch = st.session_state.setdefault("upload.batch", 0)  # a new uploader key per ingest clears the chosen files
files = st.file_uploader("Files", accept_multiple_files=True, key=f"upload.files.{batch}",
                         max_upload_size=service.config.upload_limit_mb)
if st.button("Ingest", type="primary", key="upload.ingest"):
    if files:
        try:
            job = service.submit_uploads([(f.name, f) for f in files], created_by=reviewer())  # copied in chunks
        finally:
            release_uploads(files)
        st.session_state.setdefault(JOB_KEY, []).insert(0, job.job_id)
        st.session_state["upload.batch"] = batch + 1
        st.rerun()
    st.warning("Choose one or more files first.")

if st.button("Load demo data", key="upload.demo",
             help="A few photos, a spoken clip and a short video, labeled, transcribed and queued for Label review."):
    job = service.load_demo(created_by=reviewer())
    st.session_state.setdefault(JOB_KEY, []).insert(0, job.job_id)

job_ids = st.session_state.get(JOB_KEY, [])
if job_ids:
    st.subheader("This session's uploads")
    watch_jobs(lambda: [service.jobs.get(j) for j in job_ids[:5]], key="upload.jobs",
               on_cancel=service.jobs.cancel, render=lambda job: outcome_table(job.result.get("outcomes", [])))
