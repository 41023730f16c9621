"""Results: final labels per item, agreement between reviewers, per-reviewer figures, model accuracy, exports."""
import streamlit as st

from components.app import get_service, reviewer
from components.jobs import watch_jobs
from components.results_tables import blind_metrics, results_tables, transcript_metrics
from components.review import plain
from core.exports import FORMATS

service = get_service()
st.title("Results")

names = [wf.name for wf in service.workflows.list()]
choice = st.selectbox("Workflow", ["All workflows", *names], key="results.workflow")
workflow = None if choice == "All workflows" else choice
if st.button("Re-consolidate with current reviewer weights", key="results.reconsolidate"):
    st.toast(f"Re-consolidated {service.consolidation.reconsolidate_all()} items.")

with st.spinner("Measuring agreement…"):
    results_tables(service.results.items(workflow=workflow), service.results.agreement(workflow=workflow))
    blind_metrics(service.results.blind(workflow=workflow))
    transcript_metrics(service.results.transcripts(workflow=workflow))

st.subheader("Export")
cols = st.columns([1, 3, 1])
fmt = cols[0].selectbox("Format", FORMATS, key="results.format")
out = cols[1].text_input("Destination folder or s3://bucket/prefix", key="results.out",
                         value=str(service.config.data_dir / "exports"))
if cols[2].button("Export", type="primary", key="results.export") and out.strip():
    st.session_state["results.job"] = service.exports.submit(fmt, out.strip(), workflow=workflow,
                                                             created_by=reviewer()).job_id
if job_id := st.session_state.get("results.job"):
    watch_jobs(lambda: [service.jobs.get(job_id)], key="results.jobs",
               render=lambda job: st.caption(f"Wrote {job.result.get('items', 0)} items to "
                                             + plain(job.result.get("destination", "")))
               if job.status == "succeeded" else None)
