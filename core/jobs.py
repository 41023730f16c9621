"""The job runner: long work (ingest, inference, transcription, export) on a thread pool, persisted.

A job's progress, result and error are records in the store, so a page change or a restart loses
nothing. Handlers are plain functions `(ctx, params) -> result dict`; they never touch streamlit.

Recovery never takes a job that a live runner holds, in this process or another sharing the store. Each runner has
a name of its own ("host:pid:token": a process may hold several, e.g. the app's service built again for a new
configuration), and a held job, queued or running, carries it. A job named by a runner of this process is abandoned
only if that runner no longer holds it; one named by this host and pid but by no live runner here is an earlier
process's (a container's new process often has the old one's pid); any other goes by heartbeat age, never by process
id: a job whose heartbeat is older than `stale_after_s` (a running job's is refreshed every HEARTBEAT_S by a thread
of its own, a queued one's by its runner's `watch`) is queued again by any runner sharing the store, at start
(`recover`) and then every heartbeat (`watch`), with or without a browser. A job's last write that failed
(a store outage) is kept in memory and written once the store is back, so no job stays "running" for good.
A handler can `checkpoint` partial results; a resumed job finds them in `ctx.job.result` and skips that work.

Work records: a job's chunks done, its item list in pages, a long file's window words (kinds declared with
`work_kind`, keyed "{job_id}/...", parent the job) are needed only while the job can still be resumed, that is while
its stored status is queued or running. Once its final status is written they are removed (the final write first, so
a crash in between leaves leftovers that `python -m core gc` removes, never a resumable job without its records).
An explicit id list longer than INLINE_ITEMS goes to the same item pages at submit, before the job record exists.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Protocol

from core.access import OPEN, Access, Actor
from core.domain import Job, as_dict, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError, NotFound, VersionConflict, describe_error
from core.stores.base import Record, RecordStore

log = logging.getLogger(__name__)

KIND = "job"
CANCEL_KIND = "job_cancel"
STALE_AFTER_S = 120.0
HEARTBEAT_S = 30.0  # a running job's record is refreshed this often, even while its handler reports nothing
ITEMS_KIND = "job_items"  # a job's list of ids in pages ("{job_id}/{n:05d}", parent the job): see `write_item_pages`
ITEMS_PAGE = 500  # ids per page record: about 33 KB, well under DynamoDB's 400 KB item limit
# An explicit list up to this long stays in the job's params, a longer one goes to item pages: 50 ids (sha256 hex)
# are 3.4 KB, so the job record, rewritten by every progress report and read by every job list, stays within one 4 KB
# DynamoDB read unit (500 inline ids made each of those 34 KB).
INLINE_ITEMS = 50
_WORK_KINDS: set[str] = {ITEMS_KIND}
_CLAIM_TRIES = 5  # a claim re-reads after a conflict (its own runner's heartbeat of the queued job, say)
# Every runner of this process by name, as long as it exists: recovery asks the one named by a job whether it holds it.
_LIVE_RUNNERS: weakref.WeakValueDictionary[str, JobRunner] = weakref.WeakValueDictionary()
_LIVE_LOCK = threading.Lock()


def this_process() -> str:
    """"host:pid", the start of every runner name of this process (read each time: a forked child has its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def work_kind(kind: str) -> str:
    """Declare a record kind as a job's work in progress: keyed "{job_id}/...", with the job id as parent, needed only
    while the job can be resumed, and removed once the job is final (here, or by `python -m core gc`)."""
    _WORK_KINDS.add(kind)
    return kind


def work_kinds() -> frozenset[str]:
    return frozenset(_WORK_KINDS)


def write_item_pages(records: RecordStore, job_id: str, ids: Sequence[str]) -> int:
    """Keep a job's list of ids in page records of ITEMS_PAGE ids; returns how many pages."""
    starts = range(0, len(ids), ITEMS_PAGE)
    records.put_many(Record(ITEMS_KIND, f"{job_id}/{n:05d}", {"ids": list(ids[s:s + ITEMS_PAGE])}, parent=job_id)
                     for n, s in enumerate(starts))
    return len(starts)


def read_item_pages(records: RecordStore, job_id: str, pages: int) -> list[str]:
    """The list `write_item_pages` kept; LoupeError if a page is gone (the job can't be resumed then)."""
    keys = [f"{job_id}/{n:05d}" for n in range(int(pages))]
    found = records.get_many(ITEMS_KIND, keys, consistent=True)
    if len(found) < len(keys):
        raise LoupeError("This job's list of items is gone from the store, so it can't be resumed; start it again.")
    return [media_id for key in keys for media_id in found[key].body["ids"]]


def listed_items(records: RecordStore, job_id: str, params: dict[str, Any]) -> list[str] | None:
    """The explicit list of ids a job was submitted with (`JobRunner.submit(items=...)`): inline in
    params["media_ids"] (a short list, or a job submitted before long lists went to pages) or in item pages; None if
    it was submitted without one."""
    if params.get("media_ids") is not None:
        return list(params["media_ids"])
    if params.get("item_pages") is not None:
        return read_item_pages(records, job_id, int(params["item_pages"]))
    return None


def drop_work_records(records: RecordStore, job_id: str) -> dict[str, int]:
    """Remove a job's work records (every `work_kind`); call it only once the job's final status is stored.
    Returns how many of each kind were removed."""
    removed = {}
    for kind in sorted(_WORK_KINDS):
        keys = [r.key for r in records.query(kind, parent=job_id)]
        if keys:
            records.delete_many(kind, keys)
            removed[kind] = len(keys)
    return removed


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

    def __init__(self, runner: JobRunner, job: Job, version: int):
        self._runner = runner
        self.job = job
        self._version = version
        self._last_write = 0.0
        self._write_lock = threading.RLock()  # the heartbeat thread and the handler both update and write the job

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        now = time.monotonic()
        with self._write_lock:
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
        with self._write_lock:
            self.job = replace(self.job, result=result, heartbeat_at=time.time())
            self._write()
            self._last_write = time.monotonic()

    def beat(self) -> None:
        """Refresh the heartbeat so other app servers sharing the store don't take this job as abandoned."""
        with self._write_lock:
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
        self.owner = f"{this_process()}:{uuid.uuid4().hex[:8]}"  # this runner's own name: see the module docstring
        self.access: Access = OPEN  # who may cancel (the Service sets its own)
        with _LIVE_LOCK:
            _LIVE_RUNNERS[self.owner] = self

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    @property
    def kinds(self) -> frozenset[str]:
        """The job kinds this runner has a handler for."""
        return frozenset(self._handlers)

    def submit(self, kind: str, params: dict[str, Any] | None = None, *, created_by: str = "",
               items: Sequence[str] | None = None) -> Job:
        """Queue a job. `items`, an explicit list of ids, is kept in params["media_ids"] up to INLINE_ITEMS ids, and
        past that in item pages written before the job record (params then say "item_pages" and "items", the count):
        the job record is rewritten by every progress report and read by every job list. Read it back with
        `listed_items`."""
        if kind not in self._handlers:
            raise LoupeError(f"No job handler for {kind!r}.")
        job_id = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        params = dict(params or {})
        if items is not None:
            ids = list(items)
            if len(ids) <= INLINE_ITEMS:
                params["media_ids"] = ids
            else:  # the pages first: a job record never names pages that are not there
                params.update(item_pages=write_item_pages(self.records, job_id, ids), items=len(ids))
        job = Job(job_id=job_id, kind=kind, params=params, created_at=utc_now(), created_by=created_by,
                  owner=self.owner, heartbeat_at=time.time())
        self._hold(job_id)  # before the record exists: no recovery pass ever sees it queued and not held
        try:
            self.records.create(KIND, job.job_id, as_dict(job))
        except BaseException:
            self._let_go(job_id)
            raise
        self._pool.submit(self._run, job_id)
        return job

    def _hold(self, job_id: str) -> None:
        with self._lock:
            self._known.add(job_id)

    def _let_go(self, job_id: str) -> None:
        with self._lock:
            self._known.discard(job_id)

    def holds(self, job_id: str) -> bool:
        """Whether this runner has the job: waiting in its pool, running, or finished with its outcome unwritten."""
        with self._lock:
            return job_id in self._known or job_id in self._running or job_id in self._unwritten

    def get(self, job_id: str) -> Job:
        rec = self.records.get(KIND, job_id)
        if rec is None:
            raise NotFound(KIND, job_id)
        return from_dict(Job, rec.body)

    def recent(self, limit: int = 20, kind: str | None = None) -> list[Job]:
        jobs = [from_dict(Job, r.body) for r in self.records.query(KIND)]
        jobs = [j for j in jobs if kind is None or j.kind == kind]
        return sorted(jobs, key=lambda j: j.job_id, reverse=True)[:limit]

    def cancel(self, job_id: str, *, actor: Actor | None = None) -> None:
        """Ask a job to stop (it stops at its next check); a second cancel of the same job changes nothing.
        Only an admin or the one who started the job may (NotAllowed in words otherwise); a cancel is audited."""
        job = self.get(job_id)
        current = self.access.require_cancel(actor, job.created_by, f"{job.kind} job {job_id}")
        with self._lock:
            self._cancelled.add(job_id)
        try:
            self.records.create(CANCEL_KIND, job_id, {"requested_at": utc_now()})
        except AlreadyExists:
            return
        self.access.record(current, "cancel", job_id,
                           detail=f"{job.kind} job started by {job.created_by or 'nobody named'}, {job.status}")

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
            with self._lock:
                finishing_here = job_id in self._running or job_id in self._unwritten
            if job.is_finished and not finishing_here:
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
        """Write the finished jobs whose last write failed, then queue again (and run here) every job, queued or
        running, that was abandoned (`_is_abandoned`): never one a live runner holds, here or in another process."""
        self._flush_unwritten()
        resumed = []
        for rec in list(self.records.query(KIND)):
            job = from_dict(Job, rec.body)
            if job.is_finished or job.kind not in self._handlers or self.holds(job.job_id):
                continue
            if not self._is_abandoned(job):
                continue
            self._hold(job.job_id)
            try:
                self.records.put(KIND, job.job_id, as_dict(replace(job, status="queued", owner=self.owner,
                                                                   heartbeat_at=time.time())),
                                 expected_version=rec.version)
            except VersionConflict:  # another runner moved it first
                self._let_go(job.job_id)
                continue
            except BaseException:
                self._let_go(job.job_id)
                raise
            log.warning("re-queuing job %s (%s) left %s by %s", job.job_id, job.kind, job.status, job.owner or "nobody")
            self._pool.submit(self._run, job.job_id)
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
                self._beat_waiting()
                self.recover()
            except Exception:  # the store is down: try again at the next heartbeat
                log.warning("job recovery failed; trying again in %.0f s", self.heartbeat_s, exc_info=True)

    def _beat_waiting(self) -> None:
        """Refresh the heartbeat of the jobs queued in this runner's pool, so no other process takes them while they
        wait behind long ones (a running job's own thread beats for it). A conflict means it moved on: leave it."""
        with self._lock:
            waiting = list(self._known)
        for job_id in waiting:
            rec = self.records.get(KIND, job_id)
            if rec is None or rec.body.get("status") != "queued" or rec.body.get("owner") != self.owner:
                continue
            try:
                self.records.put(KIND, job_id, {**rec.body, "heartbeat_at": time.time()}, expected_version=rec.version)
            except VersionConflict:
                continue

    def _is_abandoned(self, job: Job) -> bool:
        """Whether nobody alive holds this job, which this runner does not hold either."""
        with _LIVE_LOCK:
            holder = _LIVE_RUNNERS.get(job.owner)
        if holder is not None:  # a runner of this process (another service on the same store): ask it
            return not holder.holds(job.job_id)
        if job.owner == this_process() or job.owner.startswith(this_process() + ":"):
            return True  # this host and pid, but no runner of it here: an earlier process that had the same pid
        return time.time() - job.heartbeat_at > self.stale_after_s

    def _flush_unwritten(self) -> None:
        with self._lock:
            pending = list(self._unwritten.items())
        for job_id, ctx in pending:
            try:
                written = self._write_final(ctx)
            except Exception as exc:
                log.warning("job %s: its outcome still can't be written: %s", job_id, exc)
                continue
            if written:
                self._drop_work(job_id)
            with self._lock:
                self._unwritten.pop(job_id, None)
            log.info("job %s: its %s outcome was written once the store was back", job_id, ctx.job.status)
            with self._done:
                self._done.notify_all()

    def _write_final(self, ctx: StoredJobContext) -> bool:
        """Write a finished job; after a failed attempt the stored version may have moved: write over it only if
        the record is still this runner's running job. False if the outcome was dropped (the job is someone else's)."""
        try:
            ctx._write()
        except VersionConflict:
            rec = self.records.get(KIND, ctx.job.job_id)
            if rec is None or rec.body.get("status") != "running" or rec.body.get("owner") != self.owner:
                log.info("job %s was taken over or finished elsewhere; this outcome is dropped", ctx.job.job_id)
                return False
            ctx._version = rec.version
            ctx._write()
        return True

    def _drop_work(self, job_id: str) -> None:
        """After the job's final write: its work records, which only a resumed run reads. A failure here leaves
        leftovers for `python -m core gc`, never a job that can't resume."""
        try:
            removed = drop_work_records(self.records, job_id)
        except Exception as exc:
            log.warning("job %s: its work records could not be removed (python -m core gc removes them): %s",
                        job_id, exc)
            return
        if removed:
            log.info("job %s: removed its work records %s", job_id, removed)

    def _claim(self, job_id: str) -> StoredJobContext | None:
        """Mark a queued job running here; None if it is gone, not queued, or another runner claimed it first. A
        conflict re-reads the record: the write in between may be a heartbeat of the queued job, not a claim."""
        for _ in range(_CLAIM_TRIES):
            rec = self.records.get(KIND, job_id)
            if rec is None:
                return None
            job = from_dict(Job, rec.body)
            if job.status != "queued":
                return None  # another runner claimed it (or it ended)
            job = replace(job, status="running", started_at=utc_now(), owner=self.owner, heartbeat_at=time.time())
            try:
                rec = self.records.put(KIND, job_id, as_dict(job), expected_version=rec.version)
            except VersionConflict:
                continue
            return StoredJobContext(self, job, rec.version)
        return None

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
            try:
                written = self._write_final(ctx)
            except Exception as exc:  # e.g. the store is down: keep the outcome and write it when the store is back
                log.warning("job %s (%s) %s, but that could not be written yet: %s", job_id, job.kind,
                            ctx.job.status, exc)
                written = False
                with self._lock:
                    self._unwritten[job_id] = ctx
            if written:
                self._drop_work(job_id)
        finally:
            with self._lock:  # only now: `wait` returns once the work records are gone too
                self._running.discard(job_id)
        with self._done:
            self._done.notify_all()

    def shutdown(self, wait: bool = True) -> None:
        self._stop_watch.set()
        self._flush_unwritten()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        with self._lock:  # the pool runs none of its waiting jobs now: they are no longer held here
            self._known.clear()


def _beat_until(ctx: StoredJobContext, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            ctx.beat()
        except Exception:  # a store hiccup must not kill the job; the next beat tries again
            log.warning("heartbeat of job %s failed", ctx.job.job_id, exc_info=True)
