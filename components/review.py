"""Widgets for the task pages: queue status, instructions, category checkboxes, model-label picks and results tables.

Every label, category and file name is user data: it goes through `plain()` (markdown-escaped) or into a
dataframe, never into unsafe HTML.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd
import streamlit as st

from core.agreement import AgreementReport, BlindComparison, TranscriptAccuracy
from core.results import ItemResult
from core.review import QueueSummary, Task
from core.taxonomy import Category

SHORT_INSTRUCTIONS = ("Review the image and select all appropriate categories for the image. If none of the category "
                      "is presented in the image, choose the last option None of the above.")
FULL_INSTRUCTIONS = """
- Look at the whole image first; use **Zoom in** and **Move** to check small details, **Fit image** to see it all again.
- Tick every category you can see in the image, even if the model did not score it highly.
- Tick **None of the above** only when no listed category appears; it clears the others.
- Judge what is shown, not what might be implied. When unsure, tick the category: another reviewer may also see it.
- Press **Submit** when done; the next task opens straight away.
"""
TOOL_GUIDE = """
| Tool | What it does |
|---|---|
| ➕ Zoom in / ➖ Zoom out | Enlarge or shrink the image (Ctrl + mouse wheel works too) |
| ✋ Move | Then drag the image to pan around it |
| ⤢ Fit image | Back to the whole image |

**Keyboard:** `1`–`9` toggle the categories in order · `0` or `N` None of the above · `Enter` submit.
"""
KEYS_HELP = "Keys: **1–9** toggle a category · **0**/**N** None of the above · **Enter** submit"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """Text shown literally in a markdown-rendering widget (labels, captions): every markdown character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def queue_status(summaries: Iterable[QueueSummary]) -> None:
    items = list(summaries)
    if not items:
        st.caption("No workflows of this kind yet.")
        return
    parts = [f"{plain(s.workflow)}: **{s.available_to_worker}** for you · {s.answers_needed} answers needed on "
             f"{s.open_loops} open items · {s.in_progress} in progress" for s in items]
    st.caption("Queue — " + " | ".join(parts))


def instructions(task: Task) -> None:
    st.markdown("**Instructions**")
    st.write(SHORT_INSTRUCTIONS)
    if task.workflow.instructions:
        st.caption(plain(task.workflow.instructions))
    with st.expander("View full instructions"):
        st.markdown(FULL_INSTRUCTIONS)
    with st.expander("View tool guide"):
        st.markdown(TOOL_GUIDE)
    st.caption(KEYS_HELP)


def _cat_key(prefix: str, i: int) -> str:
    return f"{prefix}.cat.{i}"


def apply_shortcut(pressed: str | None, count: int, prefix: str) -> None:
    """Apply a keyboard shortcut to the checkbox states (call before the checkboxes are drawn)."""
    if pressed is None:
        return
    if pressed == "none":
        _choose_none(prefix, count, value=not st.session_state.get(f"{prefix}.none", False))
    elif pressed.startswith("toggle:"):
        i = int(pressed.split(":")[1]) - 1
        if 0 <= i < count:
            st.session_state[_cat_key(prefix, i)] = not st.session_state.get(_cat_key(prefix, i), False)
            if st.session_state[_cat_key(prefix, i)]:
                st.session_state[f"{prefix}.none"] = False


def _choose_none(prefix: str, count: int, *, value: bool) -> None:
    st.session_state[f"{prefix}.none"] = value
    if value:
        for i in range(count):
            st.session_state[_cat_key(prefix, i)] = False


def _on_category(prefix: str, i: int) -> None:
    if st.session_state.get(_cat_key(prefix, i)):
        st.session_state[f"{prefix}.none"] = False


def category_checkboxes(categories: list[Category], *, prefix: str) -> tuple[list[Category], bool]:
    """Checkboxes for the categories, then "None of the above" (which clears them). Returns (picked, is_none)."""
    st.markdown("**Categories**")
    picked = []
    for i, cat in enumerate(categories):
        label = f"`{i + 1}` {plain(cat.name)}" if i < 9 else plain(cat.name)
        if st.checkbox(label, key=_cat_key(prefix, i), on_change=_on_category, args=(prefix, i)):
            picked.append(cat)
        st.caption(plain(cat.description))
    is_none = st.checkbox("`0` None of the above", key=f"{prefix}.none", on_change=lambda: _choose_none(
        prefix, len(categories), value=bool(st.session_state.get(f"{prefix}.none"))))
    return ([] if is_none else picked), is_none


def model_label_picks(labels: list[tuple[str, float, bool]], *, prefix: str, is_blind: bool) -> list[tuple[str, float]]:
    """The model's labels with confidence bars, pre-ticked at/above the threshold; returns the kept (name, conf)."""
    kept = []
    if is_blind:
        st.info("Blind review: the model's suggestions are hidden for this task. Add every label you see.")
        return kept
    for i, (name, confidence, is_preticked) in enumerate(labels):
        cols = st.columns([3, 2])
        with cols[0]:
            if st.checkbox(plain(name), value=is_preticked, key=f"{prefix}.model.{i}"):
                kept.append((name, confidence))
        with cols[1]:
            st.progress(min(1.0, max(0.0, confidence)), text=f"{confidence:.0%}")
    return kept


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
