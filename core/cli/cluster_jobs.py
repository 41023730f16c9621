"""Model work from the command line on a cluster: `label` and `transcribe` submit a job, as the app does, when
LOUPE_DASK=local or LOUPE_DASK_SCHEDULER says model work runs on Dask, and stream each item's line as its chunk
finishes on a worker."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from core.cluster import done_chunks
from core.domain import Job

POLL_S = 0.5
WAIT_S = 24 * 3600.0


def follow(service, job: Job, emit: Callable[[dict[str, Any]], None]) -> Job:
    """Wait for a job, calling emit with each item's outcome once, as the chunk holding it is recorded done (and, at
    the end, those in the job's result that no chunk record showed); returns the finished job."""
    shown: set[str] = set()

    def show(outcomes: list[dict[str, Any]]) -> None:
        for outcome in outcomes:
            media_id = str(outcome.get("media_id") or "")
            if media_id and media_id not in shown and outcome.get("status"):
                shown.add(media_id)
                emit(outcome)

    deadline = time.monotonic() + WAIT_S
    while True:
        current = service.jobs.get(job.job_id)
        if current.is_finished:
            break
        for _index, body in sorted(done_chunks(service.records, job.job_id).items()):
            show(list(body.get("outcomes", [])))
        if time.monotonic() > deadline:
            raise TimeoutError(f"Job {job.job_id} did not finish within {WAIT_S:.0f} s.")
        time.sleep(POLL_S)
    finished = service.jobs.wait(job.job_id)
    show(list(finished.result.get("outcomes", [])))
    return finished
