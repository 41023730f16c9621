"""Thresholds: tune routing live, see the evidence, save workflows, export A2I conditions and start human loops."""
from dataclasses import replace

import streamlit as st

from components import routing_views as views
from components.app import get_service, reviewer, shows_errors
from components.conditions_files import conditions_export, conditions_import
from components.evidence_panel import evidence_panel
from components.jobs import watch_jobs
from components.learning_panel import learning_panel
from components.markup import plain
from components.threshold_chart import confidence_histogram
from components.threshold_controls import open_with_active, seed_controls, seed_overrides, threshold_controls
from core.evidence import median_seconds_per_task
from core.routing import route, workflow_with_thresholds
from core.routing_policy import RoutingPolicy
from core.task_types import for_label_category

PAGE_KEY = "thresholds"
service = get_service()
st.title("Thresholds and routing")
present = service.routing.categories_present()
if not present:
    st.info("No predictions yet. Label images on the Images page (or import predictions), then tune routing here.")
    st.stop()
category = st.radio("Route", present, horizontal=True, key=f"{PAGE_KEY}.category",
                    format_func={"moderation": "Moderation labels", "general": "Image labels"}.get)
frame = service.routing.frame(category)
active = open_with_active(service.workflows.list(), category, key=PAGE_KEY)
if applied := st.session_state.pop(f"{PAGE_KEY}.apply", None):
    seed_overrides(applied, key=PAGE_KEY)
if loaded := st.session_state.pop(f"{PAGE_KEY}.load", None):
    seed_controls(loaded.routing.thresholds, loaded.audit_percent, key=PAGE_KEY)
thresholds, audit = threshold_controls(frame.label_names, category, key=PAGE_KEY)
routed = route(frame, thresholds, audit)
if active:
    st.caption(f"Opened with the thresholds of workflow {plain(active.name)}, the newest one routing these labels.")
views.band_counts(routed, key=f"{PAGE_KEY}.counts")

# One view at a time (not st.tabs, which would run every view on each slider move).
view = st.radio("View", ["Distribution", "Items", "Evidence", "Learning", "Workflows and loops"], horizontal=True,
                key=f"{PAGE_KEY}.view", label_visibility="collapsed")
if view == "Distribution":
    lines = [thresholds.high * 100] + ([thresholds.low * 100] if thresholds.has_drop_band else [])
    confidence_histogram(routed.histogram(), lines, key=f"{PAGE_KEY}.hist")
    views.per_label_table(routed, key=f"{PAGE_KEY}.per_label")
elif view == "Items":
    shown, names = views.items_table(routed, service.routing.display_names, key=f"{PAGE_KEY}.items")
    if shown:
        pick = st.selectbox("Worked example", shown[:50], key=f"{PAGE_KEY}.example",
                            format_func=lambda m: f"{names.get(m) or m[:16]}")
        views.worked_example(routed.split(frame.index_of(pick)), thresholds.high * 100, title=names.get(pick) or pick,
                       key=f"{PAGE_KEY}.worked")
elif view == "Evidence":
    truth = service.consolidation.accepted_labels()
    seconds = median_seconds_per_task(service.answers.label_task_seconds())
    task_count = st.number_input("Reviewers per item", 1, 3, 1, key=f"{PAGE_KEY}.evidence_task_count")
    chosen = evidence_panel(routed, truth, seconds, service.routing.share_curve(frame, thresholds, audit),
                            task_count=int(task_count), key=f"{PAGE_KEY}.evidence")
    if chosen:
        st.session_state[f"{PAGE_KEY}.apply"] = chosen
        st.rerun()
elif view == "Learning":
    learning_panel(service, key=f"{PAGE_KEY}.learning")
else:
    st.subheader("Activation conditions")
    conditions_export(thresholds, frame.label_names, audit, key=f"{PAGE_KEY}.conditions")
    imported = conditions_import(key=f"{PAGE_KEY}.import")

    st.subheader("Save a workflow")
    task_type = for_label_category(category).name
    form = views.workflow_form(frame.label_names, task_type, key=f"{PAGE_KEY}.wf", has_imported=imported is not None)
    if form:
        wf, source = form
        wf = (workflow_with_thresholds(replace(wf, audit_percent=audit), thresholds, frame.label_names)
              if source == "thresholds" else replace(wf, routing=RoutingPolicy(conditions=imported)))
        with shows_errors():
            service.workflows.save(wf)
            st.success(f"Saved workflow {plain(wf.name)}.")
            st.session_state[f"{PAGE_KEY}.run_workflow"] = wf.name  # loops start on the workflow just saved

    saved = service.workflows.list()
    if saved:
        st.subheader("Start human loops")
        name = views.workflow_picker(saved, key=f"{PAGE_KEY}.run_workflow")
        chosen_wf = service.workflows.get(name)
        views.flow_definition_download(chosen_wf, key=f"{PAGE_KEY}.flow")
        if chosen_wf.routing.thresholds and st.button("Load its thresholds into the controls",
                                                      key=f"{PAGE_KEY}.load_button"):
            st.session_state[f"{PAGE_KEY}.load"] = chosen_wf
            st.rerun()
        if st.button("Start human loops", type="primary", key=f"{PAGE_KEY}.start"):
            st.session_state[f"{PAGE_KEY}.job"] = service.loop_starter.submit(name, created_by=reviewer()).job_id
        if job_id := st.session_state.get(f"{PAGE_KEY}.job"):
            watch_jobs(lambda: [service.jobs.get(job_id)], key=f"{PAGE_KEY}.jobs",
                       render=lambda job: views.loops_result(job.result) if job.status == "succeeded" else None)
