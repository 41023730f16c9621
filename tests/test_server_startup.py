"""The served app resumes an interrupted job when the server starts, before any browser connects."""
from __future__ import annotations

import time

from core.config import Config
from core.domain import Job, as_dict
from core.jobs import KIND
from core.service import Service
from tests.browser.conftest import start_app, stop_app


def test_the_server_resumes_an_interrupted_job_without_a_browser(tmp_path):
    data = tmp_path / "data"
    seeded = Service(Config(data_dir=data), start_jobs=False)
    job = Job(job_id="20260101000000-left", kind="export", params={"format": "csv", "folder": "after-restart"},
              status="running", owner="old-container:1", heartbeat_at=time.time() - 10_000, done=1, total=3)
    seeded.records.create(KIND, job.job_id, as_dict(job))
    seeded.close()

    app = start_app(data, tmp_path / "server.log")  # only the health check is ever requested
    try:
        watcher = Service(Config(data_dir=data), start_jobs=False)
        try:
            deadline = time.monotonic() + 60
            while not watcher.jobs.get(job.job_id).is_finished:
                assert time.monotonic() < deadline, app.log()
                time.sleep(0.2)
            assert watcher.jobs.get(job.job_id).status == "succeeded", watcher.jobs.get(job.job_id).error
        finally:
            watcher.close()
    finally:
        stop_app(app)
