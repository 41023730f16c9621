"""Images: every ingested image with its labels; label one, a selection or all unlabeled ones as a job."""
import pandas as pd
import streamlit as st

from components.app import get_service, reviewer, shows_errors
from components.image_boxes import image_with_boxes
from components.jobs import watch_jobs
from components.labels import import_report, label_job_failures, label_panel, label_text
from components.markup import plain
from core.labelers import available

service = get_service()
JOB_KEY = "images.job_ids"
st.title("Images")

with st.expander("Import predictions (Rekognition JSON, or CSV / JSON Lines of media,label,confidence[,parent])"):
    upload = st.file_uploader("Predictions file", type=["json", "csv", "jsonl"], key="images.import_file")
    if upload is not None and st.button("Import", key="images.import"):
        with shows_errors():
            import_report(service.labeling.import_bytes(upload.name, upload.getvalue()).as_json())

images = sorted(service.catalog.list(kind="image"), key=lambda i: i.created_at, reverse=True)
if not images:
    st.info("No images yet. Upload some on the Upload page, or load the demo set from Home.")
    st.stop()

predictions = {p.media_id: p for p in service.predictions.all()}
unlabeled = [i.media_id for i in images if i.media_id not in predictions]


def top_labels(media_id: str) -> str:
    p = predictions.get(media_id)
    general = [lb for lb in p.labels if lb.category != "moderation"] if p else []
    return " · ".join(label_text(lb) for lb in general[:3])


table = pd.DataFrame({
    "file": [i.file_name for i in images],
    "status": [i.status for i in images],
    "top labels": [top_labels(i.media_id) for i in images],
    "moderation": [", ".join(lb.name for lb in predictions[i.media_id].labels if lb.category == "moderation")
                   if i.media_id in predictions else "" for i in images],
})
picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                      key="images.table")
selected = [images[r].media_id for r in picked.selection.rows] if picked and picked.selection else []

cols = st.columns([2, 2, 2, 3])
backends = available()
default_backend = service.settings.effective().labeler
backend = cols[0].selectbox("Labeler", backends, index=backends.index(default_backend)
                            if default_backend in backends else 0, key="images.backend",
                            label_visibility="collapsed")
job = None
if cols[1].button(f"Label selected ({len(selected)})", disabled=not selected, key="images.label_selected"):
    job = service.labeling.submit(selected, backend=backend, created_by=reviewer())
if cols[2].button(f"Label all unlabeled ({len(unlabeled)})", disabled=not unlabeled, type="primary",
                  key="images.label_all"):
    job = service.labeling.submit(None, backend=backend, created_by=reviewer())
if job:
    st.session_state.setdefault(JOB_KEY, []).insert(0, job.job_id)
job_ids = st.session_state.get(JOB_KEY, [])
if job_ids:
    watch_jobs(lambda: [service.jobs.get(j) for j in job_ids[:3]], key="images.jobs", on_cancel=service.jobs.cancel,
               render=lambda j: label_job_failures(j.result))

current = selected[0] if selected else images[0].media_id
item = next(i for i in images if i.media_id == current)
st.subheader(plain(item.file_name))
left, right = st.columns([3, 2])
prediction = predictions.get(current)
with left:
    image_with_boxes(service.catalog.media_bytes(current), prediction.labels if prediction else (),
                     caption=f"{item.width}×{item.height} · {item.format} · {item.media_id[:12]}")
with right:
    label_panel(prediction, key=f"images.panel.{current}")
    if st.button("Label this image", key="images.label_one"):
        job = service.labeling.submit([current], backend=backend, created_by=reviewer())
        st.session_state.setdefault(JOB_KEY, []).insert(0, job.job_id)
        st.rerun()
