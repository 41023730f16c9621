"""The Results page's figures: what is counted (items or human loops), agreement between reviewers, items and final
labels, reviewers, and the models.

Every label, reviewer and file name is user data: it goes into a dataframe cell or a metric, never into HTML. A
figure that cannot be computed shows as "—", never as "None"; agreement figures (Krippendorff's α, Cohen's κ,
agreement with the consensus) are all shown on one 0 to 1 scale with two decimals, shares of the model's labels
as percentages.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from components.markup import plain
from core.agreement import AgreementReport, BlindComparison, TranscriptAccuracy
from core.results import ItemResult, ResultsSummary
from core.words import counted

MISSING = "—"
EMPTY = ("No results yet{scope}. Results appear when people complete human loops: save a workflow on **Thresholds → "
         "Workflows and loops**, press **Start human loops**, then review on **Moderation task** or **Label review**.")


def agreement_text(value: float | None) -> str:
    """An agreement figure (α, κ, share agreeing with the consensus) on its 0 to 1 scale: "0.83", or "—"."""
    return MISSING if value is None else f"{value:.2f}"


def pct(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0%}"


def seconds_text(value: float | None) -> str:
    return MISSING if value is None else f"{value:.1f}"


def results_empty(summary: ResultsSummary, workflow: str | None) -> bool:
    """Say how to get results when there are none (in this workflow); True when it did."""
    if not summary.is_empty:
        return False
    scope = f" in {plain(workflow)}" if workflow else ""
    text = EMPTY.format(scope=scope)
    st.info(text)
    return True


def items_cursor(key: str, scope: str) -> tuple[str | None, int]:
    """The page cursor of the items table's page being shown in this scope (None: the newest) and how many pages
    come before it. The Older / Newer buttons of `items_pager` move it."""
    state = st.session_state.get(key)
    if not state or state[0] != scope:
        st.session_state[key] = (scope, ())
        return None, 0
    return (state[1][-1], len(state[1])) if state[1] else (None, 0)


def items_pager(key: str, more: str | None) -> None:
    """Newer / Older buttons under the items table (`more`: the cursor of the next older page, None at the end)."""
    scope, cursors = st.session_state[key]
    if not cursors and not more:
        return
    cols = st.columns([1, 1, 4])
    cols[0].button("‹ Newer", key=f"{key}.newer", disabled=not cursors,
                   on_click=lambda: st.session_state.update({key: (scope, cursors[:-1])}))
    cols[1].button("Older ›", key=f"{key}.older", disabled=not more,
                   on_click=lambda: st.session_state.update({key: (scope, (*cursors, more))}))


def results_tables(summary: ResultsSummary, items: Sequence[ItemResult], report: AgreementReport, *,
                   first_row: int = 1, pager_key: str = "", more: str | None = None) -> None:
    """Counts (each says whether it counts items or loops), agreement figures, then items (one page of them, from
    row `first_row` of the newest first, with `items_pager(pager_key, more)` under it), reviewers and reviewer pairs
    as tables (cells are plain text)."""
    cols = st.columns(3)
    cols[0].metric("Items reviewed", summary.items, help="Media items with a final result from people. An item "
                   "reviewed in several workflows counts once here and has one row per workflow below.")
    cols[1].metric("Human loops completed", summary.loops_completed,
                   help=f"Loops with all their answers in; {summary.loops_open} more wait for reviewers.")
    cols[2].metric("Items with 2+ reviewers", report.multi_reviewed_items,
                   help="Items that two or more people answered in one workflow: what agreement is measured on.")
    cols = st.columns(3)
    cols[0].metric("Agreement (Krippendorff's α)", agreement_text(report.alpha),
                   help="Agreement between reviewers on each (item, label) decision, from −1 to 1: 1 is perfect, "
                        "0 is chance. — until two people have answered the same item.")
    cols[1].metric("Image-label model accuracy", pct(report.model.accuracy),
                   help=f"Share of the {report.model.decisions} label decisions people made where the model agreed. "
                        f"Precision {pct(report.model.precision)}, recall {pct(report.model.recall)}.")
    cols[2].metric("Label decisions by people", report.model.decisions,
                   help="(item, label) decisions in the final results: each label people kept or left out.")
    st.subheader("Items and final labels")
    if not items:
        st.caption("No reviewed items yet.")
    else:
        st.caption(f"One row per workflow and item, newest first: rows {first_row:,} to {first_row + len(items) - 1:,} "
                   f"of {summary.results:,} results (the CSV download holds them all)." if len(items) < summary.results
                   else f"One row per workflow and item: {counted(len(items), 'result')} on "
                        f"{counted(summary.items, 'item')}.")
        st.dataframe(pd.DataFrame([{
            "item": i.file_name, "workflow": i.workflow, "human labels": ", ".join(i.human_labels) or MISSING,
            "auto-accepted": ", ".join(i.auto_labels) or MISSING, "confidence": i.confidence or 0.0,
            "boxes": i.boxes, "reviewers": ", ".join(i.reviewers) or MISSING,
        } for i in items]), hide_index=True, width="stretch",
            column_config={"confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0,
                                                                         format="%.2f")})
    if pager_key:
        items_pager(pager_key, more)
    st.subheader("Reviewers")
    if not report.reviewers:
        st.caption("No answers yet.")
        return
    st.dataframe(pd.DataFrame([{"reviewer": r.worker_id, "loops answered": r.tasks_done,
                                "of which transcript reviews": r.transcripts_done,
                                "median seconds per loop": seconds_text(r.median_time_s),
                                "agreement with consensus": agreement_text(r.agreement)} for r in report.reviewers]),
                 hide_index=True, width="stretch")
    if report.pairs:
        st.caption("Cohen's κ per pair of reviewers, on the items both answered: 1 is perfect agreement, 0 is chance")
        st.dataframe(pd.DataFrame([{"reviewer A": p.worker_a, "reviewer B": p.worker_b, "shared items": p.shared_items,
                                    "Cohen's κ": agreement_text(p.kappa)} for p in report.pairs]),
                     hide_index=True, width="stretch")


def transcript_metrics(acc: TranscriptAccuracy) -> None:
    """The speech model against the transcripts people approved, apart from the image-label figures."""
    if not acc.items:
        return
    st.subheader("Transcripts")
    cols = st.columns(2)
    cols[0].metric("Transcription model accuracy vs people (1 − WER)", pct(acc.accuracy),
                   help=f"Mean over {acc.items} reviewed transcripts of 1 − word error rate of the model's transcript "
                        "against the version a reviewer marked reviewed (an item's figure is at least 0).")
    cols[1].metric("Mean word error rate", pct(acc.mean_wer), help="Words substituted, deleted or inserted, per "
                   "word of the reviewed transcript.")


def blind_metrics(blind: BlindComparison) -> None:
    """Blind vs shown label review: does seeing the model's suggestions pull answers towards them?"""
    if not blind.blind_tasks and not blind.shown_tasks:
        return
    st.subheader("Do reviewers follow the model?")
    cols = st.columns(2)
    cols[0].metric("Match with model, suggestions shown", pct(blind.shown_match),
                   help=f"{counted(blind.shown_tasks, 'loop')}; "
                   "mean overlap (Jaccard) of the reviewer's labels with the model's labels at or above the threshold.")
    cols[1].metric("Match with model, blind", pct(blind.blind_match),
                   help=f"{counted(blind.blind_tasks, 'loop')} with the "
                   "model's suggestions hidden. A much lower figure here means reviewers lean on the suggestions.")
