"""Job progress widgets: a bar per job, refreshed by a fragment while anything is still running."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from components.app import member_fragment
from components.markup import plain
from core.access import acting_member, may_cancel_job
from core.domain import Job

STATUS_ICONS = {"queued": "⏳", "running": "🔄", "succeeded": "✅", "failed": "❌", "cancelled": "⏹️"}
POLL_S = 1.0


def job_line(job: Job, *, on_cancel: Callable[[str], None] | None = None, key: str = "job") -> None:
    """One job: status, a progress bar while it runs, its stored error if it failed, and Cancel while it is
    unfinished, for an admin or the one who started it only (core refuses anyone else anyway)."""
    label = f"{STATUS_ICONS.get(job.status, '')} {plain(job.kind)} · {job.status} · {job.done:d}/{job.total or '?'}"
    if job.message and not job.is_finished:
        label += f" · {plain(job.message)}"
    cancellable = on_cancel is not None and not job.is_finished and may_cancel_job(acting_member(), job.created_by)
    cols = st.columns([6, 1]) if cancellable else [st.container()]
    with cols[0]:
        if job.is_finished:
            st.write(label)
        else:
            st.progress(job.fraction, text=label)
        if details := job_details(job):
            st.caption(details)
        if job.error:
            st.error(f"Job {plain(job.job_id)} failed: {plain(job.error)}", icon="❌")
    if on_cancel is not None and cancellable and cols[1].button("Cancel", key=f"{key}.cancel.{job.job_id}"):
        on_cancel(job.job_id)


def job_details(job: Job) -> str:
    """When the job was started, by whom, and for which workflow, as far as the job knows."""
    parts = []
    if job.created_at:
        parts.append(f"started {started_at(job.created_at)}")
    if job.created_by:
        parts.append(f"by {plain(job.created_by)}")
    if workflow := job.params.get("workflow") or job.result.get("workflow"):
        parts.append(f"workflow {plain(workflow)}")
    return " · ".join(parts)


def started_at(iso: str) -> str:
    """`2026-11-30T13:42:05.123Z` as "30 Nov 13:42 UTC"."""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%d %b %H:%M UTC").lstrip("0")
    except ValueError:
        return iso


def watch_jobs(load: Callable[[], list[Job]], *, key: str, on_cancel: Callable[[str], None] | None = None,
               render: Callable[[Job], None] | None = None, header: Callable[[], None] | None = None) -> None:
    """Render jobs and keep polling (`st.fragment(run_every=...)`) only while one of them is unfinished.

    `header` is drawn above the jobs in the same fragment, so what it shows (Home's counters) follows the jobs.
    """
    jobs = load()
    running = any(not j.is_finished for j in jobs)

    @member_fragment(run_every=POLL_S if running else None)
    def _poll() -> None:
        if header:
            header()
        current = load()
        if not current:
            st.caption("No jobs yet.")
        for job in current:
            job_line(job, on_cancel=on_cancel, key=key)
            if render and job.is_finished:
                render(job)
        if running and all(j.is_finished for j in current):
            st.rerun()  # stop polling: rerun the page once with the final state

    _poll()
