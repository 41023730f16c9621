"""Job recovery by heartbeat age, not process id: at start and while running, with no browser; an outcome the store
could not take is written once it is back; a resumed upload reports each file as it really went."""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any

from core.config import Config
from core.domain import Job, as_dict
from core.errors import StoreUnavailable
from core.jobs import KIND, JobRunner
from core.service import Service
from core.stores.local import SQLiteRecordStore
from tests.review_seed import DEMO

LONG_AGO_S = 10_000.0


def _job(job_id: str, *, owner: str, heartbeat_at: float, kind: str = "count", **fields: Any) -> Job:
    return Job(job_id=job_id, kind=kind, params={"n": 3}, status="running", owner=owner, heartbeat_at=heartbeat_at,
               done=1, total=3, **fields)


def test_a_job_whose_owner_pid_is_alive_or_reused_is_recovered_once_its_heartbeat_is_stale(tmp_path):
    records = SQLiteRecordStore(tmp_path / "jobs.sqlite3")
    here = socket.gethostname()
    stale_live_pid = _job("1-stale-live-pid", owner=f"{here}:1", heartbeat_at=time.time() - LONG_AGO_S)
    reused_pid = _job("2-reused-pid", owner=f"{here}:{os.getpid()}", heartbeat_at=time.time())  # a container's pid 1
    fresh = _job("3-fresh", owner="other-host:42", heartbeat_at=time.time())
    for job in (stale_live_pid, reused_pid, fresh):
        records.create(KIND, job.job_id, as_dict(job))
    runner = JobRunner(records)
    runner.register("count", lambda ctx, p: {"n": p["n"]})
    assert sorted(runner.recover()) == ["1-stale-live-pid", "2-reused-pid"]
    assert runner.wait("1-stale-live-pid", 30).status == "succeeded"
    assert runner.wait("2-reused-pid", 30).status == "succeeded"
    assert runner.get("3-fresh").status == "running"  # another server is beating for it
    runner.shutdown()


def test_a_running_server_takes_over_a_job_whose_heartbeat_went_stale_without_a_restart(tmp_path):
    records = SQLiteRecordStore(tmp_path / "jobs.sqlite3")
    runner = JobRunner(records, heartbeat_s=0.05, stale_after_s=60)
    runner.register("count", lambda ctx, p: {"n": p["n"]})
    runner.watch()
    job = _job("1-went-quiet", owner="other-host:42", heartbeat_at=time.time() - LONG_AGO_S)
    records.create(KIND, job.job_id, as_dict(job))  # appears after this runner started
    assert runner.wait(job.job_id, 30).status == "succeeded"
    runner.shutdown()


class FlakyRecords:
    """A record store that is down (StoreUnavailable on every job write) while `down` is set."""

    def __init__(self, inner: SQLiteRecordStore):
        self.inner = inner
        self.down = False

    def put(self, kind: str, key: str, body: dict[str, Any], **kw: Any):
        if self.down and kind == KIND:
            raise StoreUnavailable("DynamoDB can't be reached.")
        return self.inner.put(kind, key, body, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_job_whose_failure_could_not_be_written_is_repaired_once_the_store_is_back(tmp_path):
    records = FlakyRecords(SQLiteRecordStore(tmp_path / "jobs.sqlite3"))
    runner = JobRunner(records)

    def outage_midway(ctx, params):
        ctx.progress(160, 200, "labeling")
        records.down = True  # the store goes away: progress and the outcome can't be written
        ctx.progress(200, 200, "labeling")
        return {}

    runner.register("label", outage_midway)
    job = runner.submit("label")
    deadline = time.monotonic() + 30
    while job.job_id not in runner.unwritten:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert runner.get(job.job_id).status == "running"  # "running 160/200" while the store is down
    records.down = False
    runner.recover()
    done = runner.get(job.job_id)
    assert done.status == "failed" and "can't be reached" in done.error
    runner.shutdown()


def test_a_resumed_upload_job_reports_files_ingested_before_the_restart_as_ingested(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    first = Service(config, start_jobs=False)
    names = ("cat.jpg", "coffee.jpg", "rocket.jpg")
    staged = first.catalog.stage_uploads([(n, (DEMO / n).read_bytes()) for n in names])
    done_before = first.catalog.ingest_file(staged[0][0], name="cat.jpg")
    os.unlink(staged[0][0])  # the dead process had ingested cat.jpg, checkpointed it and removed its staged copy
    job = _job("1-upload", kind="ingest", owner="old-container:1", heartbeat_at=time.time() - LONG_AGO_S,
               result={"outcomes": [done_before.as_json()]})
    first.records.create(KIND, job.job_id, as_dict(Job(**{**as_dict(job), "params": {"files": staged,
                                                                                      "staged": True}})))
    first.close()

    restarted = Service(config)  # no browser: building the service resumes the job
    try:
        result = restarted.jobs.wait("1-upload", 60).result
        assert [(o["file"], o["status"]) for o in result["outcomes"]] == [
            ("cat.jpg", "ingested"), ("coffee.jpg", "ingested"), ("rocket.jpg", "ingested")]
        assert result["counts"] == {"ingested": 3}
        assert not any(os.path.exists(p) for p, _ in staged)
    finally:
        restarted.close()


def test_a_file_stored_just_before_a_crash_is_reported_ingested_not_as_a_duplicate_of_itself(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    first = Service(config, start_jobs=False)
    staged = first.catalog.stage_uploads([(n, (DEMO / n).read_bytes()) for n in ("cat.jpg", "coffee.jpg")])
    job = _job("1-upload", kind="ingest", owner="old-container:1", heartbeat_at=time.time() - LONG_AGO_S,
               result={"outcomes": [], "next": 0}, created_at="2026-01-01T00:00:00.000Z")
    first.records.create(KIND, job.job_id, as_dict(Job(**{**as_dict(job), "params": {"files": staged,
                                                                                      "staged": True}})))
    first.catalog.ingest_file(staged[0][0], name="cat.jpg")  # stored; the crash came before the checkpoint
    first.close()

    restarted = Service(config)
    try:
        result = restarted.jobs.wait("1-upload", 60).result
        assert [(o["file"], o["status"]) for o in result["outcomes"]] == [("cat.jpg", "ingested"),
                                                                          ("coffee.jpg", "ingested")]
    finally:
        restarted.close()


def test_python_m_core_jobs_recover_runs_the_abandoned_jobs_to_the_end(tmp_path, monkeypatch, capsys):
    from core.cli import main as cli_main

    config = Config(data_dir=tmp_path / "data")
    seeded = Service(config, start_jobs=False)
    job = _job("1-left", kind="export", owner="old-container:1", heartbeat_at=time.time() - LONG_AGO_S)
    seeded.records.create(KIND, job.job_id, as_dict(Job(**{**as_dict(job), "params": {"format": "csv",
                                                                                       "folder": "cli"}})))
    seeded.close()
    monkeypatch.setenv("LOUPE_DATA_DIR", str(config.data_dir))
    assert cli_main(["jobs", "recover", "--json"]) == 0
    (done,) = json.loads(capsys.readouterr().out)
    assert (done["job_id"], done["status"]) == ("1-left", "succeeded")
    assert (config.exports_root / "cli" / "labels.csv").exists()


class Holding:
    """A job kind that runs until released, counting its runs (a job that runs twice is counted twice)."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Event()
        self.runs: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, ctx, params):
        with self._lock:
            self.runs.append(ctx.job.job_id)
        self.started.set()
        self.release.wait(30)
        return {}


def test_a_second_runner_of_the_same_process_never_takes_the_job_the_first_is_running(tmp_path):
    """As when the app builds its service again (a new configuration) beside the first: one process, two runners."""
    hold = Holding()
    first = JobRunner(SQLiteRecordStore(tmp_path / "jobs.sqlite3"))
    first.register("hold", hold)
    job = first.submit("hold")
    assert hold.started.wait(10)
    second = JobRunner(SQLiteRecordStore(tmp_path / "jobs.sqlite3"), heartbeat_s=0.02)
    second.register("hold", hold)
    assert second.recover() == []
    second.watch()
    time.sleep(0.3)  # a dozen recovery passes
    assert (second.get(job.job_id).status, second.get(job.job_id).owner) == ("running", first.owner)
    hold.release.set()
    assert first.wait(job.job_id, 30).status == "succeeded"
    second.shutdown()
    first.shutdown()
    assert hold.runs == [job.job_id]


def test_a_job_waiting_behind_a_long_one_is_not_taken_by_another_runner_and_runs_once(tmp_path):
    hold = Holding()
    first = JobRunner(SQLiteRecordStore(tmp_path / "jobs.sqlite3"), max_workers=1)
    first.register("hold", hold)
    running, waiting = first.submit("hold"), first.submit("hold")
    assert hold.started.wait(10)
    second = JobRunner(SQLiteRecordStore(tmp_path / "jobs.sqlite3"))
    second.register("hold", hold)
    assert second.recover() == []
    assert first.get(waiting.job_id).status == "queued"
    hold.release.set()
    assert [first.wait(j.job_id, 30).status for j in (running, waiting)] == ["succeeded", "succeeded"]
    second.shutdown()
    first.shutdown()
    assert sorted(hold.runs) == sorted([running.job_id, waiting.job_id])


def test_a_queued_job_keeps_its_heartbeat_fresh_while_it_waits_and_still_runs(tmp_path):
    hold = Holding()
    runner = JobRunner(SQLiteRecordStore(tmp_path / "jobs.sqlite3"), max_workers=1, heartbeat_s=0.02)
    runner.register("hold", hold)
    runner.watch()
    runner.submit("hold")
    waiting = runner.submit("hold")
    assert hold.started.wait(10)
    beats = set()
    deadline = time.monotonic() + 10
    while len(beats) < 3 and time.monotonic() < deadline:
        beats.add(runner.get(waiting.job_id).heartbeat_at)
        time.sleep(0.02)
    assert len(beats) >= 3 and runner.get(waiting.job_id).status == "queued"
    hold.release.set()
    assert runner.wait(waiting.job_id, 30).status == "succeeded"  # its runner's own heartbeats never block its claim
    runner.shutdown()


def test_a_job_named_by_a_runner_of_this_process_that_no_longer_holds_it_is_recovered_at_once(tmp_path):
    records = SQLiteRecordStore(tmp_path / "jobs.sqlite3")
    gone = JobRunner(records)
    gone.shutdown()
    records.create(KIND, "1-left", as_dict(_job("1-left", owner=gone.owner, heartbeat_at=time.time())))
    runner = JobRunner(records)
    runner.register("count", lambda ctx, p: {"n": p["n"]})
    assert runner.recover() == ["1-left"]
    assert runner.wait("1-left", 30).status == "succeeded"
    runner.shutdown()
