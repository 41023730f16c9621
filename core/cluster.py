"""Where model work runs: a job is split into chunks (32 images, one audio or video file), and each chunk runs on a
Dask cluster (a local one of worker processes, or a team's at LOUPE_DASK_SCHEDULER), or, with LOUPE_DASK=off, on
the job's own thread in this process.

A chunk runs where it lands: a worker builds its own service from the job's Config (cached per process, so models
load once per worker), does the work, writes the results to the shared store, and records the chunk as done
(record kind "job_chunk", parent the job). The job's thread in the app only submits chunks and adds up the finished
ones, so a restarted job submits only the chunks that have no record yet. A chunk whose worker died twice (Dask's
KilledWorker, `allowed-failures` = 1) is split into single items; a single item that kills its worker twice fails
alone, with the reason in words (over the memory limit, when the nanny says so).
"""
from __future__ import annotations

import json
import logging
import math
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from core.config import APP_ROOT, Config
from core.errors import AlreadyExists, LoupeError, VersionConflict
from core.jobs import CANCEL_KIND, JobCancelled, JobContext, read_item_pages, work_kind, write_item_pages
from core.stores.base import RecordStore

if TYPE_CHECKING:
    from core.service import Service

log = logging.getLogger(__name__)

CHUNK_KIND = work_kind("job_chunk")  # removed with the job's other work records once it is final (core/jobs.py)
ALLOWED_FAILURES = 1  # a task is retried once on another worker after its worker dies; a second death is KilledWorker
# A worker is sent only as many tasks as it has threads: a task merely waiting on a worker that another task blows up
# would count that death against itself (Dask counts every task assigned to a dead worker).
WORKER_SATURATION = 1.0
SCHEDULER_SETTINGS = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                      "distributed.scheduler.worker-saturation": WORKER_SATURATION}
POLL_S = 0.2
HEALTH_EVERY_S = 10.0  # the Settings page's view of the cluster is probed at most this often per process
HEALTH_FIRST_WAIT_S = 1.5  # how long the first look waits for its probe before it says it is still looking
PROBE_TIMEOUT_S = 2.0  # a scheduler that does not take a TCP connection within this is "can't be reached"
LOST_GIVE_UP_S = 600.0  # how long a job waits for its scheduler to come back before it fails
LOCAL_START_TIMEOUT_S = 60.0  # a local cluster of 2 workers starts in 2-5 s on 2 busy cores; past this it failed
LOCAL_STOP_TIMEOUT_S = 30.0
START_RETRY_S = 30.0  # after a failed start, jobs and Settings get its reason at once for this long; then it is retried
CLUSTER_ADVICE = ("To run model work in the app's own process instead, start Loupe with LOUPE_DASK=off; to use a "
                  "cluster that already runs, set LOUPE_DASK_SCHEDULER to its scheduler's address.")
ChunkTask = Callable[[str, dict[str, Any]], dict[str, Any]]  # (job_id, payload) -> {"outcomes": [per-item dicts]}


class ClusterUnavailable(LoupeError):
    """The cluster that model work runs on can't be started or reached; the message says why and what to do."""


@dataclass(frozen=True)
class Chunk:
    index: str  # "00003"; a chunk split after a worker death has children "00003.000", "00003.001", ...
    payload: dict[str, Any]  # {"ids": [...], and what the task needs besides}
    weight: float  # what progress counts: images, or seconds of media

    def split(self) -> list[Chunk]:
        ids = list(self.payload["ids"])
        each = self.weight / max(1, len(ids))
        return [Chunk(f"{self.index}.{n:03d}", {**self.payload, "ids": [i]}, each) for n, i in enumerate(ids)]


@dataclass(frozen=True)
class ClusterHealth:
    """The cluster as the Settings page shows it."""
    ok: bool
    message: str  # in words: where it is, or why it can't be reached
    mode: str  # "off" | "local" | the scheduler's address
    workers: int = 0
    threads: int = 0
    memory_used_bytes: int = 0
    memory_limit_bytes: int = 0
    tasks_in_flight: int = 0
    dashboard: str = ""
    per_worker: tuple[dict[str, Any], ...] = field(default=())
    is_starting: bool = False  # still starting (or being looked for): not an error yet


def chunk_key(job_id: str, index: str) -> str:
    return f"{job_id}/{index}"


def done_chunks(records: RecordStore, job_id: str) -> dict[str, dict[str, Any]]:
    """index -> the chunk's record body, for the chunks of this job that are done (or were split)."""
    return {r.key.split("/", 1)[1]: r.body for r in records.query(CHUNK_KIND, parent=job_id)}


def record_chunk(records: RecordStore, job_id: str, index: str, summary: dict[str, Any], *, where: str = "") -> int:
    """Record a chunk as done, with its per-item outcomes; returns how many times it has now run (a retry after a
    worker died after its writes, but before Dask heard back, makes 2: its writes were idempotent)."""
    key = chunk_key(job_id, index)
    body = {**summary, "runs": 1, "where": where, "finished_at": time.time()}
    for _ in range(5):
        try:
            records.create(CHUNK_KIND, key, body, parent=job_id)
            return 1
        except AlreadyExists:
            rec = records.get(CHUNK_KIND, key)
            if rec is None:
                continue
            runs = int(rec.body.get("runs", 1)) + 1
            try:
                records.put(CHUNK_KIND, key, {**body, "runs": runs}, expected_version=rec.version, parent=job_id)
                return runs
            except VersionConflict:
                continue
    return 0


def job_items(ctx: JobContext, records: RecordStore, choose: Callable[[], list[str]]) -> list[str]:
    """The items of a job whose list is chosen when it first runs ("every unlabeled image"), the same list when
    it is resumed. The list is kept in page records of its own (kind "job_items", 500 ids each, parent the job),
    not in the job's record: that one is rewritten by every progress report and read by every job list, and a
    list of tens of thousands of ids would make each of those a megabyte."""
    job_id = ctx.job.job_id
    pages = ctx.job.result.get("item_pages")
    if pages is not None:
        return read_item_pages(records, job_id, int(pages))
    if ctx.job.result.get("media_ids") is not None:  # a job that began before lists were kept in pages
        return list(ctx.job.result["media_ids"])
    ids = list(choose())
    ctx.checkpoint({"item_pages": write_item_pages(records, job_id, ids), "items": len(ids)})
    return ids


def chunk_report(records: RecordStore, job_id: str) -> dict[str, Any]:
    """What a job's chunk records say, for its result (the records go once the job is final): how many chunks ran,
    which of them ran more than once (a retry after a worker died after its writes), and where they ran."""
    ran = {index: body for index, body in done_chunks(records, job_id).items() if not body.get("split")}
    return {"count": len(ran), "ran_again": sorted(i for i, body in ran.items() if int(body.get("runs", 1)) > 1),
            "where": sorted({str(body.get("where", "")) for body in ran.values()})}


def is_cancel_requested(records: RecordStore, job_id: str) -> bool:
    return records.get(CANCEL_KIND, job_id) is not None


_chunk_progress: ContextVar[Callable[[float], None] | None] = ContextVar("loupe_chunk_progress", default=None)


def report_chunk_progress(done: float) -> None:
    """Called by a chunk task as it goes: how much of its chunk's weight is done. A chunk that runs in this process
    (LOUPE_DASK=off) moves the job's progress with it, and stops there if the job was cancelled (JobCancelled); on
    a worker it does nothing (progress moves per finished chunk)."""
    hook = _chunk_progress.get()
    if hook is not None:
        hook(done)


class Executor(Protocol):
    """Runs chunk tasks by kind; futures have done(), result() and cancel() (concurrent.futures' or Dask's)."""

    @property
    def slots(self) -> int:
        """How many chunks to keep submitted at once."""

    def submit(self, kind: str, job_id: str, chunk: Chunk) -> Any: ...

    def killed_reason(self, exc: BaseException, chunk: Chunk) -> str | None:
        """If exc says the chunk's worker process died (and not the task itself), why, in words; else None."""

    def is_lost(self, exc: BaseException) -> bool:
        """Whether exc says the task was lost with the scheduler (not failed): it is submitted again."""

    def cancel(self, futures: Sequence[Any]) -> None: ...

    def health(self) -> ClusterHealth: ...

    def start(self) -> None:
        """Get ready for work without waiting (a local cluster starts on a thread of its own)."""

    def close(self) -> None: ...


class InProcess:
    """LOUPE_DASK=off: each chunk runs on the calling job thread, with this process's own models and store."""

    slots = 1
    mode = "off"

    def __init__(self, records: RecordStore, tasks: dict[str, ChunkTask]):
        self.records = records
        self.tasks = tasks

    def submit(self, kind: str, job_id: str, chunk: Chunk) -> Future:
        done: Future = Future()
        try:
            summary = self.tasks[kind](job_id, chunk.payload)
            record_chunk(self.records, job_id, chunk.index, summary, where="in-process")
            done.set_result(summary)
        except BaseException as exc:  # handed to the caller through the future, as Dask does
            done.set_exception(exc)
        return done

    def killed_reason(self, exc: BaseException, chunk: Chunk) -> str | None:
        return None

    def is_lost(self, exc: BaseException) -> bool:
        return False

    def cancel(self, futures: Sequence[Any]) -> None:
        pass

    def health(self) -> ClusterHealth:
        return ClusterHealth(True, "Model work runs in this process (LOUPE_DASK=off): no cluster.", "off")

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


def run_chunks(ctx: JobContext, executor: Executor | None, records: RecordStore, kind: str,
               chunks: Sequence[Chunk], *, unit: str = "") -> list[dict[str, Any]]:
    """Run the chunks of a job that are not done yet and return every chunk's summary (done before or now), in order.

    Progress is the weight of the finished chunks (and, for a chunk running in this process, what it reports with
    `report_chunk_progress`; unit names the weight in those messages, "s transcribed"). A cancel cancels the
    outstanding futures. Any other error of a chunk fails the job (after cancelling the rest)."""
    if executor is None:  # the service sets where model work runs when it builds its parts
        raise LoupeError("Model work has nowhere to run: this part was built without the service's executor.")
    job_id = ctx.job.job_id
    done = done_chunks(records, job_id)
    todo: list[Chunk] = []
    for chunk in chunks:  # a chunk split before a restart goes on as its children
        todo.extend(chunk.split() if done.get(chunk.index, {}).get("split") else [chunk])
    total = math.ceil(sum(c.weight for c in chunks))
    finished = sum(c.weight for c in todo if c.index in done)
    pending = [c for c in todo if c.index not in done]
    if len(pending) < len(todo):
        log.info("job %s: %d of %d chunks were done before; submitting the rest", job_id, len(todo) - len(pending),
                 len(todo))
    ctx.progress(int(finished), total, f"{len(todo) - len(pending)} of {len(todo)} chunks done")
    running: dict[Any, Chunk] = {}
    lost_since: float | None = None
    slots = executor.slots if pending else 0
    try:
        while pending or running:
            if ctx.is_cancelled():
                raise JobCancelled()
            while pending and len(running) < slots:
                token = _chunk_progress.set(_in_chunk_progress(ctx, finished, pending[0].weight, total, unit))
                try:
                    running[executor.submit(kind, job_id, pending[0])] = pending[0]
                except OSError as exc:  # the scheduler can't be reached now: try again in a moment
                    lost_since = lost_since or time.monotonic()
                    if time.monotonic() - lost_since > LOST_GIVE_UP_S:
                        raise LoupeError(f"The Dask scheduler can't be reached ({exc}); the job stops here (the "
                                         "predictions and transcripts of its finished chunks are kept).") from None
                    log.warning("job %s: the Dask scheduler can't be reached (%s); trying again", job_id, exc)
                    time.sleep(2.0)
                    break
                finally:
                    _chunk_progress.reset(token)
                pending.pop(0)
            ready = [f for f in running if f.done()]
            if not ready:
                time.sleep(POLL_S)
                continue
            for future in ready:
                chunk = running.pop(future)
                try:
                    done[chunk.index] = future.result()
                    lost_since = None
                except JobCancelled:
                    raise
                except BaseException as exc:
                    if executor.is_lost(exc):  # the scheduler went away: submit it again once one answers
                        recorded = records.get(CHUNK_KIND, chunk_key(job_id, chunk.index))
                        if recorded is not None:  # it finished on its worker before the scheduler went
                            done[chunk.index] = recorded.body
                            finished += chunk.weight
                            continue
                        lost_since = lost_since or time.monotonic()
                        if time.monotonic() - lost_since > LOST_GIVE_UP_S:
                            raise LoupeError(f"The Dask scheduler was lost and has not come back for "
                                             f"{LOST_GIVE_UP_S / 60:.0f} minutes; the job stops here (the "
                                             "predictions and transcripts of its finished chunks are kept).") from None
                        log.warning("job %s: chunk %s was lost with the scheduler; submitting it again", job_id,
                                    chunk.index)
                        pending.insert(0, chunk)
                        time.sleep(1.0)
                        continue
                    why = executor.killed_reason(exc, chunk)
                    if why is None:
                        raise
                    if len(chunk.payload["ids"]) > 1:
                        log.warning("job %s: chunk %s lost its worker twice; running its %d items one by one",
                                    job_id, chunk.index, len(chunk.payload["ids"]))
                        split = {"split": True, "outcomes": []}
                        record_chunk(records, job_id, chunk.index, split, where="split")
                        done[chunk.index] = split
                        pending[:0] = chunk.split()
                        continue
                    failed = {"outcomes": [{"media_id": chunk.payload["ids"][0], "file": "", "status": "failed",
                                            "reason": why}]}
                    record_chunk(records, job_id, chunk.index, failed, where="killed")
                    done[chunk.index] = failed
                    log.warning("job %s: item %s failed alone: %s", job_id, chunk.payload["ids"][0], why)
                finished += chunk.weight
                count = sum(1 for body in done.values() if not body.get("split"))
                ctx.progress(int(min(finished, total)), total, f"{count} chunk(s) done, {len(running)} running")
    finally:
        if running:
            executor.cancel(list(running))
    summaries: list[dict[str, Any]] = []
    for chunk in chunks:
        parts = chunk.split() if done.get(chunk.index, {}).get("split") else [chunk]
        summaries.extend(done[c.index] for c in parts)
    return summaries


def _in_chunk_progress(ctx: JobContext, finished: float, weight: float, total: int,
                       unit: str) -> Callable[[float], None]:
    def progress(done: float) -> None:
        at = int(min(total, finished + min(max(0.0, done), weight)))
        ctx.progress(at, total, f"{at} of {total} {unit}" if unit else "")
        ctx.check_cancelled()
    return progress


def outcomes_of(summaries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for s in summaries for o in s.get("outcomes", [])]


# ---- the Dask side -----------------------------------------------------------------------------------------------
class DaskCluster:
    """A Dask client: to LOUPE_DASK_SCHEDULER, or to a local cluster of worker processes started on first use."""

    def __init__(self, config: Config):
        self.config = config
        self.mode = config.dask_scheduler.strip() or "local"
        self._client = None
        self._local: LocalClusterProcess | None = None
        self._lock = threading.Lock()
        self._memory_limit = ""
        self._health: ClusterHealth | None = None
        self._health_at = 0.0
        self._probe: threading.Thread | None = None
        self._health_lock = threading.Lock()
        self._start_failure: tuple[float, ClusterUnavailable] | None = None
        self._starting_since: float | None = None

    @property
    def slots(self) -> int:
        try:
            threads = sum(self.client().nthreads().values())
        except Exception:
            threads = 1
        return max(2, 2 * threads)

    def client(self):
        with self._lock:
            if self._client is not None and self._client.status in ("running", "connecting"):
                return self._client
            from distributed import Client

            if self._client is not None:
                self._client.close()
                self._client = None
            if self.mode == "local":
                self._client = Client(self._local_address(), timeout="10s", set_as_default=False)
            else:  # Dask's own connect waits for good on a port that takes connections but never answers
                _check_reachable(self.mode)
                self._client = Client(self.mode, timeout="5s", set_as_default=False)
            return self._client

    def _local_address(self) -> str:
        """The scheduler of this process's local cluster, started now if it is not running; a start that failed
        less than START_RETRY_S ago raises its reason again at once (jobs and Settings say it in words)."""
        if self._local is not None and self._local.process.poll() is None:
            return self._local.address
        if self._local is not None:
            log.warning("the local Dask cluster exited (code %s); starting it again", self._local.process.returncode)
            self._local = None
        if self._start_failure is not None and time.monotonic() - self._start_failure[0] < START_RETRY_S:
            raise self._start_failure[1]
        self._starting_since = time.monotonic()
        try:
            self._local = LocalClusterProcess(self.config)
        except ClusterUnavailable as exc:
            log.error("%s", exc)
            self._start_failure = (time.monotonic(), exc)
            raise
        finally:
            self._starting_since = None
        self._start_failure = None
        return self._local.address

    def start(self) -> None:
        """Start (or reach) the cluster now, on a thread of its own, so that the first job does not wait for it; the
        app server calls this as it starts. A failure is kept for jobs and Settings to say."""
        def run() -> None:
            try:
                self.client()
            except Exception:
                log.warning("the cluster could not be started or reached at startup", exc_info=True)
        threading.Thread(target=run, daemon=True, name="loupe-cluster-start").start()

    def submit(self, kind: str, job_id: str, chunk: Chunk) -> Any:
        return self.client().submit(run_chunk_on_worker, self.config, kind, job_id, chunk, pure=False,
                                    key=f"loupe-{kind}-{job_id}-{chunk.index}-{uuid.uuid4().hex[:6]}")

    def killed_reason(self, exc: BaseException, chunk: Chunk) -> str | None:
        from distributed.scheduler import KilledWorker

        if not isinstance(exc, KilledWorker):
            return None
        worker = getattr(exc, "last_worker", None)
        last, limit = getattr(worker, "address", ""), getattr(worker, "memory_limit", 0) or 0
        try:
            events = self.client().get_events("worker-restart-memory")
        except Exception:
            events = ()
        over = [e for _, e in events if isinstance(e, dict) and e.get("worker") == last]
        if over:
            return (f"This item made the worker process working on it go over its memory limit "
                    f"({limit // 1048576} MB; it reached {int(over[-1].get('rss', 0)) // 1048576} MB), twice; the "
                    "worker was restarted and the item given up, so the rest of the job could go on. Raise the "
                    "workers' memory limit (LOUPE_DASK_MEMORY_LIMIT, or `dask worker --memory-limit`) to label it.")
        return ("The worker process working on this item died, twice (it crashed or was killed; see the worker's "
                "log); the item was given up so the rest of the job could go on.")

    def is_lost(self, exc: BaseException) -> bool:
        from distributed.comm.core import CommClosedError

        # only run_chunks cancels, and never reads a future it cancelled; a closed comm is the scheduler's, mid-gather
        return isinstance(exc, (CancelledError, CommClosedError))

    def cancel(self, futures: Sequence[Any]) -> None:
        try:
            self.client().cancel(list(futures))
        except Exception:
            log.warning("outstanding chunks could not be cancelled", exc_info=True)

    def health(self) -> ClusterHealth:
        """The cluster as last probed, without waiting on it: a probe runs on a thread of its own at most every
        HEALTH_EVERY_S, and until the first one answers (HEALTH_FIRST_WAIT_S at most) this says it is looking."""
        started = None
        with self._health_lock:
            cached = self._health
            if (cached is None or time.monotonic() - self._health_at >= HEALTH_EVERY_S) and self._probe is None:
                started = self._probe = threading.Thread(target=self._run_probe, daemon=True,
                                                         name="loupe-cluster-probe")
                started.start()
        if cached is None and started is not None:  # the very first look: a short wait, once
            started.join(HEALTH_FIRST_WAIT_S)
            with self._health_lock:
                cached = self._health
        failure = self._start_failure
        if failure is not None and (cached is None or self._health_at < failure[0]):
            return ClusterHealth(False, f"Model work can't run: {failure[1]}", self.mode)
        if cached is not None:
            return cached
        starting = self._starting_since
        since = f" ({time.monotonic() - starting:.0f} s so far)" if starting is not None else ""
        what = ("Starting a local cluster of worker processes" if self.mode == "local"
                else f"Looking for the Dask scheduler at {self.mode}")
        return ClusterHealth(False, f"{what}{since}; this refreshes by itself.", self.mode, is_starting=True)

    def _run_probe(self) -> None:
        try:
            health = self._probe_now()
        except Exception as exc:  # whatever goes wrong, the page gets words, never a traceback
            health = ClusterHealth(False, f"The cluster could not be read ({type(exc).__name__}: {exc}).", self.mode)
        with self._health_lock:
            self._health, self._health_at, self._probe = health, time.monotonic(), None

    def _probe_now(self) -> ClusterHealth:
        where = "a local cluster" if self.mode == "local" else f"the Dask scheduler at {self.mode}"
        try:
            client = self.client()
            info = client.scheduler_info(n_workers=-1)
            tasks = client.run_on_scheduler(_tasks_in_flight)
        except ClusterUnavailable as exc:
            return ClusterHealth(False, f"Model work can't run: {exc}", self.mode)
        except Exception as exc:
            return ClusterHealth(False, f"Model work can't run: {where} can't be reached ({type(exc).__name__}: "
                                        f"{exc}). Start it, or set LOUPE_DASK_SCHEDULER to one that runs.", self.mode)
        workers = info.get("workers", {})
        per_worker = tuple({"worker": addr, "threads": w.get("nthreads", 0),
                            "memory_mb": round(w.get("metrics", {}).get("memory", 0) / 1048576),
                            "limit_mb": round((w.get("memory_limit") or 0) / 1048576),
                            "executing": w.get("metrics", {}).get("task_counts", {}).get("executing", 0)}
                           for addr, w in sorted(workers.items()))
        ok = bool(workers)
        message = (f"{len(workers)} worker(s) on {where}." if ok else
                   f"{where[0].upper()}{where[1:]} answers, but has no workers: start one with "
                   f"`dask worker {info.get('address', self.mode)}` where Loupe is installed.")
        return ClusterHealth(ok, message, self.mode, workers=len(workers),
                             threads=sum(w.get("nthreads", 0) for w in workers.values()),
                             memory_used_bytes=sum(w.get("metrics", {}).get("memory", 0) for w in workers.values()),
                             memory_limit_bytes=sum((w.get("memory_limit") or 0) for w in workers.values()),
                             tasks_in_flight=int(tasks), dashboard=client.dashboard_link or "",
                             per_worker=per_worker)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._local is not None:
                self._local.close()
                self._local = None


def _check_reachable(address: str) -> None:
    """Raise OSError unless a Dask scheduler at a tcp://host:port address answers within PROBE_TIMEOUT_S."""
    import asyncio
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        return  # another transport (inproc, ucx): let Dask say
    with socket.create_connection((parts.hostname, parts.port or 8786), timeout=PROBE_TIMEOUT_S):
        pass
    asyncio.run(_handshake(address))  # something that takes connections but never answers as Dask would hang it


async def _handshake(address: str) -> None:
    import asyncio

    from distributed.comm import connect

    try:
        comm = await asyncio.wait_for(connect(address, timeout=PROBE_TIMEOUT_S), PROBE_TIMEOUT_S + 0.5)
    except TimeoutError:
        raise OSError(f"something takes connections there, but gave no Dask handshake within {PROBE_TIMEOUT_S:.0f} "
                      "s") from None
    await comm.close()


def _tasks_in_flight(dask_scheduler=None) -> int:
    """Runs on the scheduler: tasks queued or processing there (every client's)."""
    return sum(1 for ts in dask_scheduler.tasks.values() if ts.state in ("processing", "queued", "no-worker"))


def local_cluster_size(config: Config) -> tuple[int, int]:
    """(workers, model threads per worker) for a local cluster: one worker per 2 GB of memory, at most one per CPU,
    unless LOUPE_DASK_WORKERS says; the machine's CPUs are shared among them for the models' intra-op threads."""
    import psutil

    cpus = os.cpu_count() or 1
    workers = config.dask_workers or max(1, min(cpus, psutil.virtual_memory().total // (2 * 1024 ** 3)))
    threads = config.model_threads or max(1, cpus // workers)
    return workers, threads


class LocalClusterProcess:
    """A local cluster of worker processes, run by `python -m core.local_cluster` as a process of its own.

    Never a LocalCluster in this process: Dask spawns its workers with this process's main module, and under
    `streamlit run` that is the page script, so every worker re-ran the app and died ("Nanny failed to start"). The
    child's main module is core/local_cluster.py, and its stdin is a pipe this object holds, so it ends with this
    process however that ends. It logs to this process's stderr (the terminal that runs `make run`)."""

    def __init__(self, config: Config):
        workers, threads = local_cluster_size(config)
        log.info("starting a local Dask cluster: %d worker process(es), %d model thread(s) each, memory limit %s each",
                 workers, threads, config.dask_memory_limit)
        path = os.pathsep.join(p for p in (str(APP_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.local_cluster", "--workers", str(workers), "--threads", str(threads),
             "--memory-limit", config.dask_memory_limit, "--dashboard", _dashboard_address() or ""],
            cwd=APP_ROOT, env={**os.environ, "PYTHONPATH": path}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        self.address = self._wait_for_address()

    def _wait_for_address(self) -> str:
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True, name="loupe-cluster-start").start()
        try:
            line = lines.get(timeout=LOCAL_START_TIMEOUT_S)
        except queue.Empty:
            self.close()
            raise ClusterUnavailable(f"The local cluster of worker processes did not start within "
                                     f"{LOCAL_START_TIMEOUT_S:.0f} s. {CLUSTER_ADVICE}") from None
        try:
            said = json.loads(line) if line.strip() else {}
        except ValueError:
            said = {}
        if said.get("scheduler"):
            return str(said["scheduler"])
        self.close()
        why = said.get("error") or f"its process exited with code {self.process.returncode}"
        raise ClusterUnavailable(f"The local cluster of worker processes could not start ({why}); the terminal that "
                                 f"runs Loupe shows its log. {CLUSTER_ADVICE}")

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()  # the cluster closes its workers and exits
            except OSError:
                pass
        try:
            self.process.wait(LOCAL_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("the local Dask cluster did not stop within %.0f s; killing it", LOCAL_STOP_TIMEOUT_S)
            self.process.kill()
            self.process.wait()


def _dashboard_address() -> str | None:
    try:
        import bokeh  # noqa: F401  (Dask serves its dashboard only with bokeh installed)
    except ImportError:
        return None
    return "127.0.0.1:8787"  # loopback only; Dask takes another port if this one is busy


def open_executor(config: Config, records: RecordStore, tasks: dict[str, ChunkTask]) -> Executor:
    return DaskCluster(config) if config.runs_on_dask else InProcess(records, tasks)


# ---- on a worker -------------------------------------------------------------------------------------------------
_services: dict[Config, Service] = {}
_services_lock = threading.Lock()
_MAX_SERVICES = 4  # one per store a worker serves (tests make many); models are shared by all of them


def worker_config(config: Config, environ: Mapping[str, str] | None = None) -> Config:
    """The job's Config as a worker uses it: model work in this process, with this machine's own LOUPE_DATA_DIR
    (model and media caches) and LOUPE_MODEL_THREADS when its environment sets them."""
    env = os.environ if environ is None else environ
    changes: dict[str, Any] = {"dask": "off", "dask_scheduler": ""}
    if env.get("LOUPE_MODEL_THREADS", "").strip().isdigit():
        changes["model_threads"] = int(env["LOUPE_MODEL_THREADS"])
    if env.get("LOUPE_DATA_DIR", "").strip() and config.store != "local":
        changes["data_dir"] = env["LOUPE_DATA_DIR"].strip()
    return replace(config, **changes)


def worker_service(config: Config) -> Service:
    """This worker process's service for the job's store, built once; every service here shares one model cache."""
    from core.models import process_models
    from core.service import Service

    config = worker_config(config)
    with _services_lock:
        service = _services.get(config)
        if service is None:
            if len(_services) >= _MAX_SERVICES:
                _services.pop(next(iter(_services))).close()
            service = _services[config] = Service(config, start_jobs=False, models=process_models())
        return service


def run_chunk_on_worker(config: Config, kind: str, job_id: str, chunk: Chunk) -> dict[str, Any]:
    """The task Dask runs: one chunk of a job, on the worker's own service; records the chunk as done."""
    service = worker_service(config)
    summary = service.chunk_tasks[kind](job_id, chunk.payload)
    runs = record_chunk(service.records, job_id, chunk.index, summary, where=_worker_name())
    if runs > 1:
        log.info("job %s: chunk %s ran %d times (its writes are idempotent)", job_id, chunk.index, runs)
    return summary


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except ValueError:
        return f"pid {os.getpid()}"
