"""The review queue's counts stay exact while two app processes review at once, on every store: they are kept as
loops and answers change (core/loops.py), and at the end they match a recount from the records themselves."""
from __future__ import annotations

import time
from pathlib import Path

from core.config import Config
from core.domain import HumanLoop, Workflow
from core.loops import COUNTED
from core.service import Service
from core.stores.local import LocalBlobStore
from core.task_types.moderation import moderation_content
from tests.contract.test_paging_and_counters import _open_again
from tests.processes import run_together


def _service(records, folder: Path) -> Service:
    return Service(Config(data_dir=folder), stores=(records, LocalBlobStore(folder / "media")), start_jobs=False,
                   local_admin=True)


def review_all(backend: str, where: str, folder: str, workers: list[str]) -> None:
    """One app process: its own store handle and service; its reviewers take and answer tasks until none is left."""
    svc = _service(_open_again(backend, where), Path(folder))
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            done = 0
            for worker in workers:
                task = svc.review.next_task(worker)
                if task is not None:
                    svc.review.submit(task, moderation_content([("Weapons", "Violence")] if done % 2 else []))
                    done += 1
            # Nothing for these reviewers right now is not the end: the other process may hold a slot (a claim),
            # or give one back after an answer under a shared name was set aside. Stop when no loop is open.
            if not done:
                if svc.review.summary(workers[0])[0].open_loops == 0:
                    return
                time.sleep(0.05)
    finally:
        svc.close()


def test_queue_counts_stay_exact_while_two_app_processes_review(records, backend, tmp_path):
    n_loops = 16 if backend == "local" else 8
    svc = _service(records, tmp_path / "here")
    svc.workflows.save(Workflow(name="race-flow", task_type="moderation", task_count=2))
    for i in range(n_loops):
        assert svc.loops.create(HumanLoop(f"race-{i:03d}", f"{i:064x}", "race-flow", task_count=2))
    (before,) = svc.review.summary("ana")
    assert (before.open_loops, before.answers_needed, before.available_to_worker, before.loops_total) == \
        (n_loops, 2 * n_loops, n_loops, n_loops)

    where = str(records.path) if backend == "local" else records.table
    run_together(f"{__name__}:review_all", [[backend, where, str(tmp_path / name), workers]
                                            for name, workers in (("one", ["ana", "ben"]), ("two", ["ben", "cy"]))],
                 timeout_s=300)

    kept = svc.loops.counts()
    (after,) = svc.review.summary("ana")
    assert (after.open_loops, after.answers_needed, after.in_progress, after.available_to_worker,
            after.loops_total) == (0, 0, 0, 0, n_loops)
    assert len(list(svc.answers.all())) == 2 * n_loops  # every loop got exactly its two answers, none lost
    recounted = svc.loops.recount()
    assert {k: v for k, v in kept.items() if v or k == COUNTED} == {k: v for k, v in recounted.items() if v or
                                                                    k == COUNTED}
    svc.close()


def test_counts_follow_a_loop_stopped_halfway_and_one_a_reviewer_answered(records, tmp_path):
    svc = _service(records, tmp_path / "here")
    svc.workflows.save(Workflow(name="flow", task_type="moderation", task_count=2))
    for i in range(3):
        svc.loops.create(HumanLoop(f"loop-{i}", f"{i:064x}", "flow", task_count=2))
    task = svc.review.next_task("ana")
    svc.review.submit(task, moderation_content([]))
    assert svc.review.next_task("ben").loop.loop_id == task.loop.loop_id  # ben holds its other slot right now
    (summary,) = svc.review.summary("ana")
    assert (summary.open_loops, summary.answers_needed, summary.in_progress) == (3, 5, 1)
    assert summary.available_to_worker == 2  # she answered one of the three
    svc.loops.set_status(task.loop.loop_id, "Stopped")  # one answer in, one missing: that one is no longer needed
    (summary,) = svc.review.summary("ana")
    assert (summary.open_loops, summary.answers_needed, summary.in_progress, summary.available_to_worker,
            summary.loops_total) == (2, 4, 0, 2, 3)
    assert {k: v for k, v in svc.loops.counts().items() if v} == {k: v for k, v in svc.loops.recount().items() if v}
    svc.close()
