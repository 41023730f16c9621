"""The skeleton shared by the task pages: take the reviewer's next task, show it, skip or submit, then the next one.

A task page reads:

    with task_page(service, task_type="moderation", title="Moderation review") as frame:
        ...draw the task (frame.task, widget keys under frame.prefix, frame.pressed: the key pressed)...
        if submitted:
            frame.submit(content)

Entering resumes the task this browser session was showing (if the reviewer still holds it) or takes their next
one; with an empty queue it shows the queue counts and says how to get tasks (no workflow yet, no loops started,
all done), and stops the page. `submit` records the answer and `skip` (also the S key) gives the task back; both
rerun the page, which then opens the next task. The outcome of a submit is shown beside the title for as long as
the next task is on screen, so a rerun the task's own widgets start (the box canvas reporting its fit) does not wipe
it. The queue counts are drawn last, above the task, so a submit's run reruns before paying for them; until then
the counts of the run before hold their place, so the task does not move under the reviewer's pointer.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from components.app import require_reviewer
from components.markup import plain
from components.review import empty_queue_text, queue_status
from components.task_keys import task_keys
from core.errors import LoupeError
from core.review import Task
from core.service import Service


@dataclass(frozen=True)
class TaskFrame:
    """The task on screen, and what the page may do with it."""

    service: Service
    task: Task
    task_type: str
    pressed: str | None = None  # the keyboard shortcut pressed since the last run (components/task_keys.py)

    @property
    def prefix(self) -> str:
        """The key prefix for this task's widgets: a new task gets fresh widgets."""
        return f"{self.task_type}.{self.task.loop.loop_id}"

    def submit(self, content: dict[str, Any]) -> None:
        """Record the answer (its outcome is shown while the next task is) and rerun to open the next task."""
        try:
            outcome = self.service.review.submit(self.task, content)
            # a different answer under the same name was in first: this one was kept aside, and the reviewer is told
            st.session_state[_flash_key(self.task_type)] = ("warning" if outcome.is_set_aside else "success",
                                                            outcome.message, None)
        except LoupeError as exc:
            st.session_state[_flash_key(self.task_type)] = ("error", str(exc), None)
        st.session_state.pop(_loop_key(self.task_type), None)
        st.rerun()

    def skip(self) -> None:
        """Give the task back to the queue and rerun; this session is not offered it again."""
        self.service.review.release(self.task)
        st.session_state.setdefault(_skipped_key(self.task_type), set()).add(self.task.loop.loop_id)
        st.session_state.pop(_loop_key(self.task_type), None)
        st.session_state.pop(_flash_key(self.task_type), None)
        st.rerun()


@contextmanager
def task_page(service: Service, *, task_type: str, title: str) -> Iterator[TaskFrame]:
    """Frame one task page run: the reviewer's current task, or the empty-queue message (then the page stops)."""
    worker = require_reviewer()
    task = service.review.resume_or_next(worker, st.session_state.get(_loop_key(task_type)), task_type=task_type,
                                         skip=frozenset(st.session_state.get(_skipped_key(task_type), ())))
    heading, note = st.columns([3, 2], vertical_alignment="center")
    heading.title(title)
    _show_outcome(task_type, task.loop.loop_id if task else "", note)
    queue_slot = st.empty()
    if (shown := st.session_state.get(_queue_key(task_type, worker))) is not None:
        # the counts shown before hold their place while this run works: an emptied slot let the task below jump
        # up and back during every rerun, and a click on Submit at that moment landed beside the button
        with queue_slot.container():
            queue_status(shown)
    if task is None:
        summaries = _queue_counts(service, worker, task_type)
        with queue_slot.container():
            queue_status(summaries)
        st.session_state.pop(_loop_key(task_type), None)
        how_to_get_tasks = empty_queue_text(summaries, task_title=title)  # workflow names escaped there
        st.info(how_to_get_tasks)
        st.stop()
    st.session_state[_loop_key(task_type)] = task.loop.loop_id
    with note:  # a zero-height element: here it takes no row of its own
        pressed = task_keys(key=f"{task_type}.keys")
    frame = TaskFrame(service, task, task_type, pressed)
    if frame.pressed == "skip":
        frame.skip()
    yield frame
    summaries = _queue_counts(service, worker, task_type)  # not reached when the page reran (submit, skip) or stopped
    with queue_slot.container():
        queue_status(summaries)


def _queue_counts(service: Service, worker: str, task_type: str) -> list:
    """The reviewer's queue counts, kept to hold their place at the top of the next run."""
    summaries = list(service.review.summary(worker, task_type=task_type))
    st.session_state[_queue_key(task_type, worker)] = summaries
    return summaries


def _show_outcome(task_type: str, shown: str, where) -> None:
    """The last submit's outcome, bound to the task opened after it (or the empty queue), and dropped once another
    is on screen."""
    flash = st.session_state.get(_flash_key(task_type))
    if flash is None:
        return
    kind, message, bound = flash
    if bound is None:
        st.session_state[_flash_key(task_type)] = (kind, message, shown)
    elif bound != shown:
        st.session_state.pop(_flash_key(task_type), None)
        return
    {"success": where.success, "warning": where.warning}.get(kind, where.error)(plain(message))


def _loop_key(task_type: str) -> str:
    return f"{task_type}.loop_id"


def _queue_key(task_type: str, worker: str) -> str:
    return f"{task_type}.queue_shown.{worker}"


def _flash_key(task_type: str) -> str:
    return f"{task_type}.flash"


def _skipped_key(task_type: str) -> str:
    return f"{task_type}.skipped"
