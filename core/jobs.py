"""The job runner: long work (ingest, inference, transcription, export) on a thread pool, persisted.

A job's progress, result and error are records in the store, so a page change or a restart loses
nothing. Handlers are plain functions `(ctx, params) -> result dict`; they never touch streamlit.

Recovery goes by heartbeat age, never by process id (a container's new process often has the old one's pid):
a running job whose heartbeat is older than `stale_after_s` is queued again by any runner sharing the store, at
start (`recover`) and then every heartbeat (`watch`), with or without a browser. A job's last write that failed
(a store outage) is kept in memory and written once the store is back, so no job stays "running" for good.
A handler can `checkpoint` partial results; a resumed job finds them in `ctx.job.result` and skips that work.
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

    def checkpoint(self, result: dict[str, Any]) -> None:
        """Store partial results now (in `job.result`), so a resumed job can tell what was already done."""


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

    def checkpoint(self, result: dict[str, Any]) -> None:
        self.job = replace(self.job, result=result, heartbeat_at=time.time())
        self._write()
        self._last_write = time.monotonic()

    def beat(self) -> None:
        """Refresh the heartbeat so other app servers sharing the store don't take this job as abandoned."""
        self.job = replace(self.job, heartbeat_at=time.time())
        self._write()

    def _write(self) -> None:
        with self._write_lock:
            rec = self._runner.records.put(KIND, self.job.job_id, as_dict(self.job), expected_version=self._version)
            self._version = rec.version


class JobRunner:
    def __init__(self, records: RecordStore, max_workers: int = 2, heartbeat_s: float = HEARTBEAT_S,
                 stale_after_s: float = STALE_AFTER_S):
        self.records = records
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self._running: set[str] = set()  # jobs this runner is running now
        self._known: set[str] = set()  # jobs handed to this runner's pool
        self._unwritten: dict[str, StoredJobContext] = {}  # finished jobs whose last write failed
        self._stop_watch = threading.Event()
        self._watcher: threading.Thread | None = None
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
        self._hand_to_pool(job.job_id)
        return job

    def _hand_to_pool(self, job_id: str) -> None:
        with self._lock:
            self._known.add(job_id)
        self._pool.submit(self._run, job_id)

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

    @property
    def unwritten(self) -> frozenset[str]:
        """Jobs finished here whose outcome the store has not taken yet (written by the next `recover`)."""
        with self._lock:
            return frozenset(self._unwritten)

    def recover(self) -> list[str]:
        """Write the finished jobs whose last write failed, then queue again (and run here) every job that was
        abandoned: queued ones nobody here holds, and running ones whose heartbeat is older than stale_after_s (or
        that carry this process's name without running here: an earlier process with the same pid)."""
        self._flush_unwritten()
        resumed = []
        for rec in list(self.records.query(KIND)):
            job = from_dict(Job, rec.body)
            if job.is_finished or job.kind not in self._handlers:
                continue
            with self._lock:
                is_ours = job.job_id in self._running or job.job_id in self._unwritten or job.job_id in self._known
            if is_ours or (job.status == "running" and not self._is_abandoned(job)):
                continue
            try:
                self.records.put(KIND, job.job_id, as_dict(replace(job, status="queued", owner="")),
                                 expected_version=rec.version)
            except VersionConflict:
                continue
            log.warning("re-queuing job %s (%s) left %s by %s", job.job_id, job.kind, job.status, job.owner or "nobody")
            self._hand_to_pool(job.job_id)
            resumed.append(job.job_id)
        return resumed

    resume_interrupted = recover

    def watch(self) -> None:
        """Recover abandoned jobs every heartbeat, on a background thread, until shutdown."""
        if self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watch, daemon=True, name="loupe-job-watch")
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop_watch.wait(self.heartbeat_s):
            try:
                self.recover()
            except Exception:  # the store is down: try again at the next heartbeat
                log.warning("job recovery failed; trying again in %.0f s", self.heartbeat_s, exc_info=True)

    def _is_abandoned(self, job: Job) -> bool:
        if job.owner == self.owner:
            return True  # this process's name, but not running here: an earlier process that had the same pid
        return time.time() - job.heartbeat_at > self.stale_after_s

    def _flush_unwritten(self) -> None:
        with self._lock:
            pending = list(self._unwritten.items())
        for job_id, ctx in pending:
            try:
                self._write_final(ctx)
            except Exception as exc:
                log.warning("job %s: its outcome still can't be written: %s", job_id, exc)
                continue
            with self._lock:
                self._unwritten.pop(job_id, None)
            log.info("job %s: its %s outcome was written once the store was back", job_id, ctx.job.status)
            with self._done:
                self._done.notify_all()

    def _write_final(self, ctx: "StoredJobContext") -> None:
        """Write a finished job; after a failed attempt the stored version may have moved: write over it only if
        the record is still this runner's running job."""
        try:
            ctx._write()
        except VersionConflict:
            rec = self.records.get(KIND, ctx.job.job_id)
            if rec is None or rec.body.get("status") != "running" or rec.body.get("owner") != self.owner:
                log.info("job %s was taken over or finished elsewhere; this outcome is dropped", ctx.job.job_id)
                return
            ctx._version = rec.version
            ctx._write()

    def _claim(self, job_id: str) -> "StoredJobContext | None":
        """Mark a queued job running here; None if it is gone, not queued, or another runner claimed it first."""
        rec = self.records.get(KIND, job_id)
        if rec is None:
            return None
        job = from_dict(Job, rec.body)
        if job.status != "queued":
            return None
        job = replace(job, status="running", started_at=utc_now(), owner=self.owner, heartbeat_at=time.time())
        try:
            rec = self.records.put(KIND, job_id, as_dict(job), expected_version=rec.version)
        except VersionConflict:
            return None  # another runner claimed it
        return StoredJobContext(self, job, rec.version)

    def _run(self, job_id: str) -> None:
        with self._lock:
            self._known.discard(job_id)
            self._running.add(job_id)  # before the claim below, so a recovery pass never takes it as abandoned
        try:
            ctx = self._claim(job_id)
        except BaseException:
            with self._lock:
                self._running.discard(job_id)
            raise
        if ctx is None:
            with self._lock:
                self._running.discard(job_id)
            return
        job = ctx.job
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
        try:
            self._write_final(ctx)
        except Exception as exc:  # e.g. the store is down: keep the outcome and write it when the store is back
            log.warning("job %s (%s) %s, but that could not be written yet: %s", job_id, job.kind, ctx.job.status, exc)
            with self._lock:
                self._unwritten[job_id] = ctx
        finally:
            with self._lock:
                self._running.discard(job_id)
        with self._done:
            self._done.notify_all()

    def shutdown(self, wait: bool = True) -> None:
        self._stop_watch.set()
        self._flush_unwritten()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _beat_until(ctx: StoredJobContext, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            ctx.beat()
        except Exception:  # a store hiccup must not kill the job; the next beat tries again
            log.warning("heartbeat of job %s failed", ctx.job.job_id, exc_info=True)
