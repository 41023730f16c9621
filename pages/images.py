"""Images: the ingested images a page at a time, searchable by name, status, label and confidence, with their labels;
label one, a selection or all unlabeled ones as a job."""
import streamlit as st

from components.app import get_service, reviewer, shows_errors
from components.image_boxes import image_with_boxes
from components.jobs import watch_jobs
from components.labels import import_report, label_job_failures, label_panel
from components.markup import plain
from components.media_browser import PAGE_ROWS, browse, image_table
from core.labelers import available

service = get_service()
JOB_KEY = "images.job_ids"
st.title("Images")

with st.expander("Import predictions (Rekognition JSON, or CSV / JSON Lines of media,label,confidence[,parent])"):
    upload = st.file_uploader("Predictions file", type=["json", "csv", "jsonl"], key="images.import_file")
    if upload is not None and st.button("Import", key="images.import"):
        with shows_errors():
            import_report(service.labeling.import_bytes(upload.name, upload.getvalue()).as_json())

counts = service.catalog.counts(("image",))
if not counts["total"]:
    st.info("No images yet. Upload some on the Upload page, or load the demo set from Home.")
    st.stop()
unlabeled = counts["by_status"]["new"]

page = browse(lambda wanted, after: service.media_list.page(wanted, after=after, limit=PAGE_ROWS,
                                                           with_predictions=True),
              key="images.filter", kinds=("image",), with_labels=True, noun="images")
selected = image_table(page.rows, key="images.table")

cols = st.columns([2, 2, 2, 3])
backends = available()
default_backend = service.settings.effective().labeler
backend = cols[0].selectbox("Labeler", backends, index=backends.index(default_backend)
                            if default_backend in backends else 0, key="images.backend",
                            label_visibility="collapsed")
job = None
if cols[1].button(f"Label selected ({len(selected)})", disabled=not selected, key="images.label_selected"):
    job = service.labeling.submit(selected, backend=backend, created_by=reviewer())
if cols[2].button(f"Label all unlabeled ({unlabeled:,})", disabled=not unlabeled, type="primary",
                  key="images.label_all"):
    job = service.labeling.submit(None, backend=backend, created_by=reviewer())
if job:
    st.session_state.setdefault(JOB_KEY, []).insert(0, job.job_id)
job_ids = st.session_state.get(JOB_KEY, [])
if job_ids:
    watch_jobs(lambda: [service.jobs.get(j) for j in job_ids[:3]], key="images.jobs", on_cancel=service.jobs.cancel,
               render=lambda j: label_job_failures(j.result))

if not page.rows:
    st.stop()
current = selected[0] if selected else page.rows[0].item.media_id
row = next(r for r in page.rows if r.item.media_id == current)
item, prediction = row.item, row.prediction
st.subheader(plain(item.file_name))
left, right = st.columns([3, 2])
with left:
    image_with_boxes(service.catalog.media_bytes(current), prediction.labels if prediction else (),
                     caption=f"{item.width}×{item.height} · {item.format} · {item.media_id[:12]}")
with right:
    label_panel(prediction, key=f"images.panel.{current}")
    if st.button("Label this image", key="images.label_one"):
        job = service.labeling.submit([current], backend=backend, created_by=reviewer())
        st.session_state.setdefault(JOB_KEY, []).insert(0, job.job_id)
        st.rerun()
