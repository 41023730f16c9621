"""Home's overview: what the store holds, and what to do next (the review tasks waiting, as links to their pages)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import streamlit as st

from components.auth import page_link
from components.markup import plain
from core.review import QueueSummary
from core.task_types import REGISTRY
from core.words import counted


def store_counts(counts: dict[str, Any]) -> None:
    """Media items in all, per kind, and per status once there are any."""
    cols = st.columns(4)
    cols[0].metric("Media items", counts["total"])
    for col, kind in zip(cols[1:], ("image", "audio", "video")):
        col.metric(kind.capitalize() + ("s" if kind == "image" else ""), counts["by_kind"][kind])
    if counts["total"]:
        st.subheader("By status")
        for col, (status, n) in zip(st.columns(len(counts["by_status"])), counts["by_status"].items()):
            col.metric(status.replace("_", " ").capitalize(), n)


def waiting_tasks(summaries: Sequence[QueueSummary], *, reviewer: str) -> dict[str, int]:
    """Task type -> tasks waiting: those this reviewer could take, or every answer still needed before they sign in."""
    waiting: Counter[str] = Counter()
    for s in summaries:
        waiting[s.task_type] += s.available_to_worker if reviewer else s.answers_needed
    return {task_type: n for task_type, n in waiting.items() if n and task_type in REGISTRY}


def next_steps(summaries: Sequence[QueueSummary], *, reviewer: str, has_media: bool) -> None:
    """What to do next: a link per page with tasks waiting, else where tasks come from."""
    waiting = waiting_tasks(summaries, reviewer=reviewer)
    if waiting or has_media:
        st.subheader("Next")
    for task_type, n in waiting.items():
        spec = REGISTRY[task_type]
        who = "for you" if reviewer else "for reviewers"
        tasks = f"{counted(n, 'task')} wait{'s' if n == 1 else ''}"
        page_link(spec.page, label=f"{plain(tasks)} {plain(who)} in {plain(spec.title)} →", icon="👉")
    if waiting and not reviewer:
        st.caption("Enter your name in the sidebar to see the tasks waiting for you.")
    elif not waiting and has_media:
        st.caption("No review tasks are waiting. Tune routing and start human loops on Thresholds to queue some.")
