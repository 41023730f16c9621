"""The job runner: progress, results and errors persist; cancel works; a dead process's job is resumed."""
from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import replace

import pytest

from core.domain import Job, as_dict
from core.errors import LoupeError, StoreUnavailable
from core.jobs import KIND, JobRunner
from core.stores.local import SQLiteRecordStore


def _runner(tmp_path):
    return JobRunner(SQLiteRecordStore(tmp_path / "jobs.sqlite3"), max_workers=2)


def test_a_job_reports_progress_and_keeps_its_result(tmp_path):
    runner = _runner(tmp_path)

    def count(ctx, params):
        for i in range(params["n"]):
            ctx.progress(i + 1, params["n"], f"item {i}")
        return {"sum": sum(range(params["n"]))}

    runner.register("count", count)
    job = runner.wait(runner.submit("count", {"n": 5}, created_by="ann").job_id, 30)
    assert (job.status, job.done, job.total, job.result, job.created_by) == ("succeeded", 5, 5, {"sum": 10}, "ann")
    assert job.started_at and job.finished_at
    runner.shutdown()


def test_a_failing_job_stores_its_error_in_words(tmp_path):
    runner = _runner(tmp_path)

    def boom(ctx, params):
        raise LoupeError("The model file is missing; reinstall the package.")

    def crash(ctx, params):
        raise ZeroDivisionError("division by zero")

    runner.register("boom", boom)
    runner.register("crash", crash)
    failed = runner.wait(runner.submit("boom").job_id, 30)
    crashed = runner.wait(runner.submit("crash").job_id, 30)
    assert failed.status == "failed" and failed.error == "The model file is missing; reinstall the package."
    assert crashed.status == "failed" and "ZeroDivisionError" in crashed.error
    runner.shutdown()


def test_a_cancelled_job_stops_and_says_so(tmp_path):
    runner = _runner(tmp_path)
    started = threading.Event()

    def slow(ctx, params):
        started.set()
        for i in range(1000):
            ctx.check_cancelled()
            ctx.progress(i, 1000)
            threading.Event().wait(0.01)
        return {}

    runner.register("slow", slow)
    job = runner.submit("slow")
    started.wait(10)
    runner.cancel(job.job_id)
    runner.cancel(job.job_id)  # a second press of Cancel changes nothing
    done = runner.wait(job.job_id, 30)
    assert done.status == "cancelled" and done.done < 1000
    runner.shutdown()


def test_a_cancel_the_store_cannot_record_says_so(tmp_path):
    records = SQLiteRecordStore(tmp_path / "jobs.sqlite3")
    runner = JobRunner(records, max_workers=1)
    release = threading.Event()
    runner.register("wait", lambda ctx, p: (release.wait(10), {})[1])
    job = runner.submit("wait")

    def unavailable(*args, **kwargs):
        raise StoreUnavailable("The record store can't be reached.")

    records.create = unavailable
    with pytest.raises(StoreUnavailable):
        runner.cancel(job.job_id)
    release.set()
    runner.shutdown()


def test_a_job_left_running_by_a_dead_process_is_requeued_at_start(tmp_path):
    records = SQLiteRecordStore(tmp_path / "jobs.sqlite3")
    orphan = Job(job_id="20260101000000-dead", kind="count", params={"n": 3}, status="running",
                 owner=f"{socket.gethostname()}:{_dead_pid()}", done=1, total=3)
    records.create(KIND, orphan.job_id, as_dict(orphan))
    live = replace(orphan, job_id="20260101000000-live", owner=f"{socket.gethostname()}:{os.getppid()}",
                   heartbeat_at=time.time())
    records.create(KIND, live.job_id, as_dict(live))
    runner = JobRunner(records)
    runner.register("count", lambda ctx, p: {"n": p["n"]})
    assert runner.resume_interrupted() == [orphan.job_id]
    assert runner.wait(orphan.job_id, 30).status == "succeeded"
    assert runner.get(live.job_id).status == "running"  # its heartbeat is fresh: not ours to take
    runner.shutdown()


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_recent_lists_newest_first(tmp_path):
    runner = _runner(tmp_path)
    runner.register("noop", lambda ctx, p: {})
    ids = [runner.submit("noop").job_id for _ in range(3)]
    for j in ids:
        runner.wait(j, 30)
    assert [j.job_id for j in runner.recent(2)] == sorted(ids, reverse=True)[:2]
    runner.shutdown()


def test_a_quiet_job_keeps_its_heartbeat_fresh_so_no_other_server_takes_it(tmp_path):
    runner = JobRunner(SQLiteRecordStore(tmp_path / "jobs.sqlite3"), heartbeat_s=0.05)
    release = threading.Event()
    runner.register("quiet", lambda ctx, p: (release.wait(10), {})[1])
    job = runner.submit("quiet")
    beats = set()
    for _ in range(100):
        current = runner.get(job.job_id)
        if current.status == "running":
            beats.add(current.heartbeat_at)
        if len(beats) >= 3:
            break
        threading.Event().wait(0.05)
    release.set()
    assert len(beats) >= 3  # refreshed while the handler reported nothing
    assert runner.wait(job.job_id, 30).status == "succeeded"
    runner.shutdown()
