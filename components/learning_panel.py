"""Learning from people on the pages: train the team model, compare and revert versions, automation before and
after learning (Thresholds), and the model against people over time (Results)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.app import reviewer, shows_errors
from components.jobs import watch_jobs
from components.markup import plain
from core.learning import LearningSettings


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def learning_panel(service, *, key: str) -> None:
    """The team model in use, a Train button (a background job with progress), versions, revert and the option
    "accept the team model's labels at a target precision" for a label review workflow."""
    learning = service.learning
    current = learning.current()
    st.caption((f"Team model in use: {plain(current.version)}." if current else
                "Team model in use: none (the base model alone).")
               + " It learns from people's final answers; label images again to apply a new version.")
    settings = learning.settings()
    cols = st.columns(4, vertical_alignment="bottom")
    examples = cols[0].number_input("Examples per label", 2, 1000, settings.min_positives, key=f"{key}.examples")
    target = cols[1].number_input("Target precision", 0.5, 0.99, settings.target_precision, 0.01,
                                  key=f"{key}.target")
    every = cols[2].number_input("Retrain after N answers (0: off)", 0, 100000, settings.retrain_after_answers,
                                 key=f"{key}.every")
    if cols[3].button("Train now", type="primary", key=f"{key}.train"):
        with shows_errors():
            learning.save_settings(LearningSettings(int(examples), int(examples), float(target), int(every)))
            st.session_state[f"{key}.job"] = learning.submit(created_by=reviewer()).job_id
    if job_id := st.session_state.get(f"{key}.job"):
        watch_jobs(lambda: [service.jobs.get(job_id)], key=f"{key}.jobs")
    versions = learning.versions()
    if versions:
        rows = learning.compare()
        st.dataframe(pd.DataFrame([{"label": r["label"], "learned": "yes" if r["learned"] else r["reason"],
                                    "precision": _pct(r["precision"]), "before": _pct(r["previous_precision"]),
                                    "recall": _pct(r["recall"]), "recall before": _pct(r["previous_recall"]),
                                    "held-out answers": r["n"]} for r in rows]),
                     hide_index=True, key=f"{key}.compare")
        names = ["base model alone"] + [v.version for v in versions]
        cols = st.columns([3, 1], vertical_alignment="bottom")
        pick = cols[0].selectbox("Use version", names, index=len(names) - 1 if current is None else
                                 names.index(current.version), key=f"{key}.version")
        if cols[1].button("Revert to it", key=f"{key}.revert"):
            with shows_errors():
                learning.revert("base" if pick == names[0] else pick)
                st.rerun()
    automation_panel(learning.automation_report(float(target)), key=f"{key}.automation")
    label_flows = [wf.name for wf in service.workflows.list() if wf.task_type == "label_review"]
    if label_flows:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        flow = cols[0].selectbox("Automated labeling for workflow", label_flows, key=f"{key}.flow")
        if cols[1].button("Accept at the target", key=f"{key}.automate",
                          help="Route this workflow by the evidence: accept labels whose measured precision meets "
                               "the target, drop those people remove, send the rest to people; the audit stays."):
            with shows_errors():
                done = learning.automate(flow, float(target))
                st.success(f"Workflow {plain(flow)} now accepts labels at {done.target_precision:.0%} precision.")


def automation_panel(report: dict, *, key: str) -> None:
    """Automation rate and precision at the target, before and after learning, on reviewed items new to the model."""
    st.subheader(f"Automation at {report['target_precision']:.0%} precision")
    if "note" in report:
        st.caption(plain(report["note"]))
        return
    before, after = report["before"], report["after"]
    cols = st.columns(2)
    cols[0].metric("Before learning", f"{before.rate:.0%} automated", f"precision {_pct(before.precision)}",
                   delta_color="off")
    cols[1].metric(f"After ({report['model_version'] or 'base model'})", f"{after.rate:.0%} automated",
                   f"precision {_pct(after.precision)}", delta_color="off")
    st.caption(f"Measured on {report['items']:,} reviewed items the team model was not trained on.")


def model_history(rows: list[dict], *, key: str) -> None:
    """Results: precision and recall of each learned label, per team model version, on held-out answers."""
    if not rows:
        return
    st.subheader("The model against people over time")
    frame = pd.DataFrame(rows)
    st.dataframe(frame.assign(precision=frame["precision"].map(_pct), recall=frame["recall"].map(_pct)),
                 hide_index=True, key=key)
    st.line_chart(frame.pivot_table(index="model_version", columns="label", values="precision", sort=False),
                  height=220)
