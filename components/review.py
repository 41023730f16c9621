"""Widgets for the task pages: queue status, instructions, category checkboxes and model-label picks.

Every label, category and file name is user data: it goes through `plain()` (markdown-escaped) or into a
dataframe, never into unsafe HTML.
"""
from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from components.markup import plain  # noqa: F401  (pages import it from here too)
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


def queue_status(summaries: Iterable[QueueSummary]) -> None:
    items = list(summaries)
    if not items:
        st.caption("No workflows of this kind yet.")
        return
    st.caption("Queue — " + " | ".join(
        f"{plain(s.workflow)}: **{s.available_to_worker:d}** for you · {s.answers_needed:d} answers needed on "
        f"{s.open_loops:d} open items · {s.in_progress:d} in progress" for s in items))


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
