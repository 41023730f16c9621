"""Home: what is in the store, and the recent jobs with live progress."""
import streamlit as st

from components.app import get_service
from components.jobs import watch_jobs

service = get_service()
st.title("🔍 Loupe")
st.caption("Human-in-the-loop review: models label and transcribe, people check what the models are unsure of.")

counts = service.catalog.counts()
cols = st.columns(4)
cols[0].metric("Media items", counts["total"])
for col, kind in zip(cols[1:], ("image", "audio", "video")):
    col.metric(kind.capitalize() + ("s" if kind == "image" else ""), counts["by_kind"][kind])

if counts["total"] == 0:
    st.info("The store is empty. Upload media, or load the demo set: it is labeled, transcribed and queued for "
            "review in one go.")
    if st.button("Load demo data", type="primary", key="home.demo"):
        service.load_demo(created_by=st.session_state.get("app.reviewer", ""))
        st.rerun()
else:
    st.subheader("By status")
    for col, (status, n) in zip(st.columns(len(counts["by_status"])), counts["by_status"].items()):
        col.metric(status.replace("_", " ").capitalize(), n)

st.subheader("Recent jobs")
watch_jobs(lambda: service.jobs.recent(10), key="home.jobs", on_cancel=service.jobs.cancel)
