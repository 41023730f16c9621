"""Home: what is in the store, what to do next, and the recent jobs, all kept live while a job runs."""
import streamlit as st

from components.app import get_service, may, reviewer
from components.jobs import watch_jobs
from components.overview import next_steps, store_counts

service = get_service()
st.title("🔍 Loupe")
st.caption("Human-in-the-loop review: models label and transcribe, people check what the models are unsure of.")


def overview() -> None:
    """Counters and next steps; drawn inside the jobs' fragment, so they update while a job runs."""
    counts = service.catalog.counts()
    store_counts(counts)
    if counts["total"] == 0 and may("media"):
        st.info("The store is empty. Upload media, or load the demo set: it is labeled, transcribed and queued for "
                "review in one go.")
        if st.button("Load demo data", type="primary", key="home.demo"):
            service.load_demo(created_by=reviewer())
            st.rerun()
    elif counts["total"] == 0:
        st.info("The store is empty. An admin uploads media or loads the demo set; the tasks then wait here.")
    next_steps(service.review.summary(reviewer()), reviewer=reviewer(), has_media=counts["total"] > 0)
    st.subheader("Recent jobs")


watch_jobs(lambda: service.jobs.recent(10), key="home.jobs", on_cancel=service.jobs.cancel, header=overview)
