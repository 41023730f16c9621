"""The Results totals stay exact while two app processes review and load Results at once, on every store: each
process folds in the items the other changed, and at the end the totals and figures equal a recount from every
record (core/result_totals.py)."""
from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from core.config import Config
from core.domain import HumanLoop, Label, Prediction, Workflow
from core.loops import loop_id_for
from core.service import Service
from core.stores.local import LocalBlobStore
from core.task_types.label_review import label_review_content
from core.task_types.moderation import moderation_content
from tests.contract.test_paging_and_counters import _open_again
from tests.core.test_result_totals import assert_kept_equals_recount
from tests.processes import run_together

FLOWS = ("race-mod", "race-labels")


def _service(records, folder: Path) -> Service:
    return Service(Config(data_dir=folder), stores=(records, LocalBlobStore(folder / "media")), start_jobs=False,
                   local_admin=True)


def review_and_load(backend: str, where: str, folder: str, workers: list[str], seed: int) -> None:
    """One app process: its reviewers answer until no task is left, loading Results between answers."""
    rng = random.Random(seed)
    svc = _service(_open_again(backend, where), Path(folder))
    try:
        while True:
            done = 0
            for worker in workers:
                task = svc.review.next_task(worker)
                if task is None:
                    continue
                if task.workflow.task_type == "moderation":
                    content = moderation_content([("Weapons", "Violence")] if rng.random() < 0.5 else [])
                else:
                    content = label_review_content([(n, 0.9) for n in ("Cat", "Dog") if rng.random() < 0.6], [],
                                                   [], (10, 10), is_blind=rng.random() < 0.5)
                svc.review.submit(task, content)
                svc.results.view(workflow=rng.choice([None, *FLOWS]))
                done += 1
            if not done:
                return
    finally:
        svc.close()


def test_results_totals_stay_exact_while_two_app_processes_review_and_load_results(records, backend, tmp_path):
    n_items = 8 if backend == "local" else 4
    svc = _service(records, tmp_path / "here")
    svc.workflows.save(Workflow(name=FLOWS[0], task_type="moderation", task_count=2))
    svc.workflows.save(Workflow(name=FLOWS[1], task_type="label_review", task_count=2))
    for i in range(n_items):
        media_id = f"{i:064x}"
        svc.predictions.save(Prediction(media_id, "m1", (Label("Cat", 0.8), Label("Dog", 0.4),
                                                         Label("Weapons", 0.6, category="moderation"))))
        for wf in FLOWS:
            assert svc.loops.create(HumanLoop(loop_id_for(wf, media_id), media_id, wf, task_count=2))
    svc.results.view()

    where = str(records.path) if backend == "local" else records.table
    run_together(f"{__name__}:review_and_load", [[backend, where, str(tmp_path / name), workers, seed]
                                                 for seed, (name, workers) in enumerate((("one", ["ana", "ben"]),
                                                                                         ("two", ["ben", "cy"])))],
                 timeout_s=300)

    view = svc.results.view()
    assert (view.summary.results, view.summary.loops_completed, view.summary.loops_open) == \
        (2 * n_items, 2 * n_items, 0)
    assert sum(r.tasks_done for r in view.agreement.reviewers) == 4 * n_items  # every answer counted once
    assert_kept_equals_recount(svc, FLOWS)
    svc.close()


class DiesBeforeCounting:
    """A store whose process dies right before a counter update (every other call goes through)."""

    def __init__(self, inner):
        self.inner = inner

    def add_counts(self, name, deltas):
        raise SystemExit("the app process died")

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def test_a_crash_between_an_items_row_and_its_totals_is_repaired_by_a_recount(records, tmp_path):
    svc = _service(records, tmp_path / "here")
    svc.workflows.save(Workflow(name="flow", task_type="moderation", task_count=1))
    media_id = "f" * 64
    svc.loops.create(HumanLoop(loop_id_for("flow", media_id), media_id, "flow"))
    svc.results.view()
    svc.review.submit(svc.review.next_task("ana"), moderation_content([("Weapons", "Violence")]))
    dying = Service(svc.config, stores=(DiesBeforeCounting(records), svc.blobs), start_jobs=False)
    try:
        dying.results.view()
    except SystemExit:
        pass  # the item's row is written, its totals are not
    assert svc.results.summary().results == 0  # the item's row says it is counted: only a recount sees it is not
    svc.results.recount()
    summary = svc.results.summary()
    assert (summary.results, summary.items, summary.loops_completed) == (1, 1, 1)
    assert dataclasses.replace(svc.results.view(), signature=()).agreement.reviewers[0].tasks_done == 1
    svc.close()
