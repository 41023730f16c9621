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
from core.words import counted

SHORT_INSTRUCTIONS = ("Review the image and tick every category that applies to it. If none of the categories "
                      "appears in the image, choose the last option, None of the above.")
FULL_INSTRUCTIONS = """
- Look at the whole image first; use **Zoom in** and **Move** to check small details, **Fit image** to see it all again.
- Tick every category you can see in the image, even if the model did not score it highly.
- Tick **None of the above** only when no listed category appears; it clears the others, and they stay off until
  you untick it.
- Judge what is shown, not what might be implied. When unsure, tick the category: another reviewer may also see it.
- Press **Submit** when done; the next task opens straight away. **Skip** gives the task back to the queue.
"""
TOOL_GUIDE = """
| Tool | What it does |
|---|---|
| ➕ Zoom in / ➖ Zoom out | Enlarge or shrink the image (Ctrl + mouse wheel works too) |
| ✋ Move | Then drag the image to pan around it |
| ⤢ Fit image | Back to the whole image |

**Keyboard:** `1`–`9` toggle the categories in order · `0` or `N` None of the above · `Enter` submit · `S` skip.
"""
KEYS_HELP = "Keys: **1–9** toggle a category · **0**/**N** None of the above · **Enter** submit · **S** skip"
LABEL_KEYS_HELP = "Keys: **1–9** keep or remove a model label · **Enter** submit · **S** skip"


def queue_status(summaries: Iterable[QueueSummary]) -> None:
    items = list(summaries)
    if not items:
        st.caption("No workflows of this kind yet.")
        return
    st.caption("Queue — " + " | ".join(
        f"{plain(s.workflow)}: **{s.available_to_worker:d}** for you · {counted(s.answers_needed, 'answer')} needed "
        f"on {counted(s.open_loops, 'open item')} · {s.in_progress:d} in progress" for s in items))


def instructions(task: Task) -> None:
    st.markdown("**Instructions**")
    st.write(SHORT_INSTRUCTIONS)
    if task.workflow.instructions:
        st.caption(plain(task.workflow.instructions))
    if st.button("View full instructions", key="review.full_instructions", type="tertiary", icon=":material/article:"):
        _full_instructions()
    if st.button("View tool guide", key="review.tool_guide", type="tertiary", icon=":material/help:"):
        _tool_guide()
    st.caption(KEYS_HELP)


@st.dialog("Full instructions", width="large")
def _full_instructions() -> None:
    st.markdown(FULL_INSTRUCTIONS)


@st.dialog("Tool guide", width="large")
def _tool_guide() -> None:
    st.markdown(TOOL_GUIDE)


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
    """Checkboxes for the categories, then "None of the above", which clears them and turns them off while it is
    ticked (as A2I's exclusion category does). Returns (picked, is_none)."""
    st.markdown("**Categories**")
    picked = []
    is_excluded = bool(st.session_state.get(f"{prefix}.none"))  # A2I's exclusion category: the others are off
    for i, cat in enumerate(categories):
        label = f"`{i + 1}` {plain(cat.name)}" if i < 9 else plain(cat.name)
        if st.checkbox(label, key=_cat_key(prefix, i), on_change=_on_category, args=(prefix, i),
                       disabled=is_excluded):
            picked.append(cat)
        st.caption(plain(cat.description))
    is_none = st.checkbox("`0` None of the above", key=f"{prefix}.none", on_change=lambda: _choose_none(
        prefix, len(categories), value=bool(st.session_state.get(f"{prefix}.none"))))
    return ([] if is_none else picked), is_none


def model_label_picks(labels: list[tuple[str, float, bool]], *, prefix: str, is_blind: bool, pressed: str | None = None,
                      height_px: int | None = None) -> list[tuple[str, float]]:
    """The model's labels with confidence bars, pre-ticked at/above the threshold; key `N` (1-9) toggles the Nth.
    With `height_px` the list scrolls inside a box that high, so what follows it stays in view. Returns the kept
    (name, confidence).

    The picks live in session state as a list, not in the checkboxes' own state, and each checkbox is drawn with
    its pick as its default value under a key that names the pick. A checkbox's browser-side state can be lost when
    a run is replaced by the next one before the browser has applied it (the canvas and the column measure report
    right after the first run); the browser then falls back to the element's default, which is the pick itself,
    never an unticked box the reviewer did not untick."""
    kept: list[tuple[str, float]] = []
    if is_blind:
        st.info("Blind review: the model's suggestions are hidden for this task. Add every label you see.")
        return kept
    picks_key = f"{prefix}.model_picks"
    picks: list[bool] = st.session_state.get(picks_key) or []
    if len(picks) != len(labels):
        picks = st.session_state[picks_key] = [is_preticked for _, _, is_preticked in labels]
    if pressed and pressed.startswith("toggle:"):
        i = int(pressed.split(":")[1]) - 1
        if 0 <= i < len(picks):
            picks[i] = not picks[i]
    with st.container(height=height_px, border=False) if height_px else st.container():
        for i, (name, confidence, _) in enumerate(labels):
            key = f"{prefix}.model.{i}.{'on' if picks[i] else 'off'}"
            cols = st.columns([3, 2], vertical_alignment="center")
            with cols[0]:
                st.checkbox(f"`{i + 1}` {plain(name)}" if i < 9 else plain(name), value=picks[i], key=key,
                            on_change=_set_pick, args=(picks_key, i, key))
            with cols[1]:
                st.progress(min(1.0, max(0.0, confidence)), text=f"{confidence:.0%}")
            if picks[i]:
                kept.append((name, confidence))
    return kept


def orphan_warning(slot, orphans) -> None:
    """In `slot`: the labels whose boxes a submit would leave out (their label is not ticked), or nothing."""
    if orphans:
        slot.warning(f"Boxes labelled {plain(', '.join(orphans))} will be left out on submit: the label is not "
                     "ticked. Tick it again to keep its boxes.")
    else:
        slot.empty()


def _set_pick(picks_key: str, i: int, widget_key: str) -> None:
    st.session_state[picks_key][i] = bool(st.session_state[widget_key])


def empty_queue_text(summaries: Iterable[QueueSummary], *, task_title: str) -> str:
    """Why there is no task for this reviewer, and how to get one: no workflow, no loops started, or all done.
    Markdown: workflow names are escaped."""
    items = list(summaries)
    where = "Thresholds → Workflows and loops"
    if not items:
        return (f"No {task_title.lower()} workflow yet: save one on {where} and press Start human loops "
                "(or load the demo on Home).")
    names = ", ".join(plain(s.workflow) for s in items)
    if all(s.loops_total == 0 for s in items):
        return (f"No tasks yet: {names} {'has' if len(items) == 1 else 'have'} no human loops. On {where}, pick "
                "the workflow and press Start human loops.")
    waiting = sum(s.open_loops for s in items)
    if waiting == 0:
        return (f"All {task_title.lower()} tasks are done. Results shows the outcome; new items get tasks when you "
                f"press Start human loops again on {where}.")
    one = waiting == 1
    return (f"Nothing left for you right now: {waiting} open item{'' if one else 's'} already "
            f"{'has' if one else 'have'} your answer or {'is' if one else 'are'} being reviewed by someone else. "
            "They close when their other reviewers submit.")
