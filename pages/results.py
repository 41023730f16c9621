"""Results: final labels per workflow and item, agreement between reviewers, per-reviewer figures, model accuracy,
and every export as a download (or written under the exports folder or S3 prefix on the server)."""
import streamlit as st

from components.app import get_service, reviewer, shows_errors
from components.jobs import watch_jobs
from components.learning_panel import model_history
from components.result_downloads import export_downloads
from components.results_tables import blind_metrics, items_cursor, results_empty, results_tables, transcript_metrics
from components.review import plain
from core.exports import FORMATS
from core.results import ITEMS_SHOWN
from core.words import counted

service = get_service()
st.title("Results")

names = [wf.name for wf in service.workflows.list()]
choice = st.selectbox("Workflow", ["All workflows", *names], key="results.workflow")
workflow = None if choice == "All workflows" else choice
with st.spinner("Measuring agreement…"):
    view = service.results.view(workflow=workflow)  # stored with the data it was computed from (core/results.py)
if not results_empty(view.summary, workflow):
    if st.button("Re-consolidate with current reviewer weights", key="results.reconsolidate"):
        repaired = service.review.repair_loops()  # loops a crash left in progress with all their answers in
        st.toast(f"Re-consolidated {counted(service.consolidation.reconsolidate_all(), 'result')} (workflow and item)"
                 + (f"; completed {counted(repaired, 'stuck human loop')}." if repaired else "."))
        service.results.recount()  # the totals summed from every item again (core/result_totals.py)
        view = service.results.view(workflow=workflow)
    after, pages_before = items_cursor("results.items_page", choice)
    items, more = (view.items, view.more) if after is None else service.results.items_page(workflow=workflow,
                                                                                            after=after)
    results_tables(view.summary, items, view.agreement, first_row=pages_before * ITEMS_SHOWN + 1,
                   pager_key="results.items_page", more=more)
    blind_metrics(view.blind)
    transcript_metrics(view.transcripts)
model_history(service.learning.history(), key="results.model_history")

st.subheader("Download")
export_downloads(service.exports, workflow, key="results.download")

with st.expander("Export to the exports folder or S3 prefix on the server"):
    cols = st.columns([1, 2, 1, 1], vertical_alignment="bottom")
    fmt = cols[0].selectbox("Format", FORMATS, key="results.format")
    folder = cols[1].text_input("Folder", key="results.folder", placeholder="e.g. run-1 (empty: the exports folder)",
                                help="Exports go under the exports folder (LOUPE_EXPORT_DIR) or, if one is "
                                     "configured, the S3 export prefix (LOUPE_EXPORT_S3_PREFIX); nowhere else.")
    to_s3 = cols[2].toggle("To S3", key="results.to_s3", disabled=not service.config.export_s3_prefix)
    overwrite = st.checkbox("Replace files already there", key="results.overwrite")
    if cols[3].button("Export", type="primary", key="results.export"):
        with shows_errors():
            st.session_state["results.job"] = service.exports.submit(fmt, folder, to_s3=to_s3, overwrite=overwrite,
                                                                     workflow=workflow, created_by=reviewer()).job_id
    if job_id := st.session_state.get("results.job"):
        watch_jobs(lambda: [service.jobs.get(job_id)], key="results.jobs",
                   render=lambda job: st.caption(f"Wrote {counted(job.result.get('items', 0), 'item')} to "
                                                 + plain(job.result.get("destination", "")))
                   if job.status == "succeeded" else None)
