"""The job runner: long work (ingest, inference, transcription, export) on a thread pool, persisted.

A job's progress, result and error are records in the store, so a page change or a restart loses
nothing. A job left running by a process that died is queued again when the next runner starts.
Handlers are plain functions `(ctx, params) -> result dict`; they never touch streamlit.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Protocol

from core.domain import Job, as_dict, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError, NotFound, VersionConflict, describe_error
from core.stores.base import RecordStore

log = logging.getLogger(__name__)

KIND = "job"
CANCEL_KIND = "job_cancel"
STALE_AFTER_S = 120.0
HEARTBEAT_S = 30.0  # a running job's record is refreshed this often, even while its handler reports nothing


class JobCancelled(Exception):
    pass


class JobContext(Protocol):
    """What a job handler sees: the job, progress reports, and whether the user cancelled. A handler depends on this
    alone, so it can be run with any context (the runner's, or a test's)."""

    @property
    def job(self) -> Job: ...

    def progress(self, done: int, total: int | None = None, message: str = "") -> None: ...

    def is_cancelled(self) -> bool: ...

    def check_cancelled(self) -> None:
        """Raise JobCancelled if the user cancelled."""


Handler = Callable[[JobContext, dict[str, Any]], dict[str, Any]]


class StoredJobContext:
    """The runner's JobContext: progress is written to the job's record (at most 4 times a second)."""

    def __init__(self, runner: "JobRunner", job: Job, version: int):
        self._runner = runner
        self.job = job
        self._version = version
        self._last_write = 0.0
        self._write_lock = threading.Lock()

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        now = time.monotonic()
        total = self.job.total if total is None else total
        self.job = replace(self.job, done=done, total=total, message=message or self.job.message,
                           heartbeat_at=time.time())
        if now - self._last_write >= 0.25 or done == total:
            self._write()
            self._last_write = now

    def is_cancelled(self) -> bool:
        return self._runner.is_cancel_requested(self.job.job_id)

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise JobCancelled()

    def beat(self) -> None:
        """Refresh the heartbeat so other app servers sharing the store don't take this job as abandoned."""
        self.job = replace(self.job, heartbeat_at=time.time())
        self._write()

    def _write(self) -> None:
        with self._write_lock:
            rec = self._runner.records.put(KIND, self.job.job_id, as_dict(self.job), expected_version=self._version)
            self._version = rec.version


class JobRunner:
    def __init__(self, records: RecordStore, max_workers: int = 2, heartbeat_s: float = HEARTBEAT_S):
        self.records = records
        self.heartbeat_s = heartbeat_s
        self._handlers: dict[str, Handler] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="loupe-job")
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._done = threading.Condition()
        self.owner = f"{socket.gethostname()}:{os.getpid()}"

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    @property
    def kinds(self) -> frozenset[str]:
        """The job kinds this runner has a handler for."""
        return frozenset(self._handlers)

    def submit(self, kind: str, params: dict[str, Any] | None = None, *, created_by: str = "") -> Job:
        if kind not in self._handlers:
            raise LoupeError(f"No job handler for {kind!r}.")
        job = Job(job_id=f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}", kind=kind,
                  params=params or {}, created_at=utc_now(), created_by=created_by)
        self.records.create(KIND, job.job_id, as_dict(job))
        self._pool.submit(self._run, job.job_id)
        return job

    def get(self, job_id: str) -> Job:
        rec = self.records.get(KIND, job_id)
        if rec is None:
            raise NotFound(KIND, job_id)
        return from_dict(Job, rec.body)

    def recent(self, limit: int = 20, kind: str | None = None) -> list[Job]:
        jobs = [from_dict(Job, r.body) for r in self.records.query(KIND)]
        jobs = [j for j in jobs if kind is None or j.kind == kind]
        return sorted(jobs, key=lambda j: j.job_id, reverse=True)[:limit]

    def cancel(self, job_id: str) -> None:
        """Ask a job to stop (it stops at its next check); a second cancel of the same job changes nothing."""
        with self._lock:
            self._cancelled.add(job_id)
        try:
            self.records.create(CANCEL_KIND, job_id, {"requested_at": utc_now()})
        except AlreadyExists:
            pass

    def is_cancel_requested(self, job_id: str) -> bool:
        with self._lock:
            if job_id in self._cancelled:
                return True
        return self.records.get(CANCEL_KIND, job_id) is not None

    def wait(self, job_id: str, timeout_s: float = 600.0) -> Job:
        """Block until the job finishes (for the command line and tests, never for pages)."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.get(job_id)
            if job.is_finished:
                return job
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"Job {job_id} did not finish within {timeout_s:.0f} s.")
            with self._done:
                self._done.wait(min(remaining, 0.2))

    def resume_interrupted(self) -> list[str]:
        """Queue again the jobs whose process died: queued ones, and running ones with a dead owner."""
        resumed = []
        for rec in list(self.records.query(KIND)):
            job = from_dict(Job, rec.body)
            if job.is_finished or job.kind not in self._handlers:
                continue
            if job.status == "running" and not self._is_orphaned(job):
                continue
            try:
                self.records.put(KIND, job.job_id, as_dict(replace(job, status="queued", owner="")),
                                 expected_version=rec.version)
            except VersionConflict:
                continue
            log.warning("re-queuing job %s (%s) left %s by %s", job.job_id, job.kind, job.status, job.owner or "nobody")
            self._pool.submit(self._run, job.job_id)
            resumed.append(job.job_id)
        return resumed

    def _is_orphaned(self, job: Job) -> bool:
        host, _, pid = job.owner.partition(":")
        if host == socket.gethostname() and pid.isdigit():
            if int(pid) == os.getpid():
                return False
            try:
                os.kill(int(pid), 0)
                return False
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return time.time() - job.heartbeat_at > STALE_AFTER_S

    def _run(self, job_id: str) -> None:
        rec = self.records.get(KIND, job_id)
        if rec is None:
            return
        job = from_dict(Job, rec.body)
        if job.status != "queued":
            return
        job = replace(job, status="running", started_at=utc_now(), owner=self.owner, heartbeat_at=time.time())
        try:
            rec = self.records.put(KIND, job_id, as_dict(job), expected_version=rec.version)
        except VersionConflict:
            return  # another runner claimed it
        ctx = StoredJobContext(self, job, rec.version)
        stop_beating = threading.Event()
        threading.Thread(target=_beat_until, args=(ctx, stop_beating, self.heartbeat_s), daemon=True,
                         name=f"beat-{job_id}").start()
        try:
            if self.is_cancel_requested(job_id):
                raise JobCancelled()
            result = self._handlers[job.kind](ctx, job.params)
            final = replace(ctx.job, status="cancelled" if ctx.is_cancelled() else "succeeded", result=result or {})
        except JobCancelled:
            final = replace(ctx.job, status="cancelled", message="Cancelled by the user.")
        except LoupeError as exc:
            log.warning("job %s (%s) failed: %s", job_id, job.kind, exc)
            final = replace(ctx.job, status="failed", error=str(exc))
        except Exception as exc:  # a bug or an unexpected I/O error: keep it with the job and in the log
            log.exception("job %s (%s) crashed", job_id, job.kind)
            final = replace(ctx.job, status="failed", error=f"Unexpected error: {describe_error(exc)}")
        stop_beating.set()
        ctx.job = replace(final, finished_at=utc_now(), heartbeat_at=time.time())
        ctx._write()
        with self._done:
            self._done.notify_all()

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _beat_until(ctx: StoredJobContext, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            ctx.beat()
        except Exception:  # a store hiccup must not kill the job; the next beat tries again
            log.warning("heartbeat of job %s failed", ctx.job.job_id, exc_info=True)
