"""The Results page's figures: agreement between reviewers, items and final labels, reviewers, and the models.

Every label, reviewer and file name is user data: it goes into a dataframe cell or a metric, never into HTML.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.agreement import AgreementReport, BlindComparison, TranscriptAccuracy
from core.results import ItemResult


def results_tables(items: list[ItemResult], report: AgreementReport) -> None:
    """Headline agreement figures, then items, reviewers and reviewer pairs as tables (cells are plain text)."""
    cols = st.columns(4)
    cols[0].metric("Items reviewed", len(items))
    cols[1].metric("By 2+ reviewers", report.multi_reviewed_items)
    cols[2].metric("Krippendorff's α", "—" if report.alpha is None else f"{report.alpha:.2f}",
                   help="Agreement between reviewers on each (item, label) decision; 1 is perfect, 0 is chance.")
    acc = report.model.accuracy
    cols[3].metric("Image-label model accuracy", "—" if acc is None else f"{acc:.0%}",
                   help=f"On {report.model.decisions} label decisions people made. Precision "
                        f"{_pct(report.model.precision)}, recall {_pct(report.model.recall)}.")
    st.subheader("Items and final labels")
    if not items:
        st.caption("No reviewed items yet.")
    else:
        st.dataframe(pd.DataFrame([{
            "item": i.file_name, "human labels": ", ".join(i.human_labels), "auto-accepted": ", ".join(i.auto_labels),
            "confidence": i.confidence, "boxes": i.boxes, "reviewers": ", ".join(i.reviewers), "workflow": i.workflow,
        } for i in items]), hide_index=True, width="stretch",
            column_config={"confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0)})
    st.subheader("Reviewers")
    st.dataframe(pd.DataFrame([{"reviewer": r.worker_id, "tasks done": r.tasks_done,
                                "of which transcripts": r.transcripts_done,
                                "median time per task (s)": r.median_time_s,
                                "agreement with consensus": r.agreement} for r in report.reviewers]),
                 hide_index=True, width="stretch")
    if report.pairs:
        st.caption("Cohen's kappa per pair of reviewers, on the items both answered")
        st.dataframe(pd.DataFrame([{"reviewer A": p.worker_a, "reviewer B": p.worker_b, "shared items": p.shared_items,
                                    "kappa": p.kappa} for p in report.pairs]), hide_index=True, width="stretch")


def transcript_metrics(acc: TranscriptAccuracy) -> None:
    """The speech model against the transcripts people approved, apart from the image-label figures."""
    if not acc.items:
        return
    st.subheader("Transcripts")
    cols = st.columns(2)
    cols[0].metric("Transcription model accuracy vs people (1 − WER)", _pct(acc.accuracy),
                   help=f"Mean over {acc.items} reviewed transcripts of 1 − word error rate of the model's transcript "
                        "against the version a reviewer marked reviewed (an item's figure is at least 0).")
    cols[1].metric("Mean word error rate", _pct(acc.mean_wer), help="Words substituted, deleted or inserted, per "
                   "word of the reviewed transcript.")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def blind_metrics(blind: BlindComparison) -> None:
    """Blind vs shown label review: does seeing the model's suggestions pull answers towards them?"""
    if not blind.blind_tasks and not blind.shown_tasks:
        return
    st.subheader("Do reviewers follow the model?")
    cols = st.columns(2)
    cols[0].metric("Match with model, suggestions shown", _pct(blind.shown_match), help=f"{blind.shown_tasks} tasks; "
                   "mean overlap (Jaccard) of the reviewer's labels with the model's labels at or above the threshold.")
    cols[1].metric("Match with model, blind", _pct(blind.blind_match), help=f"{blind.blind_tasks} tasks with the "
                   "model's suggestions hidden. A much lower figure here means reviewers lean on the suggestions.")
