"""The review queue: slots per reviewer, expiry, double submits, concurrent claims and completion."""
from __future__ import annotations

import multiprocessing
import sys
import threading
import types

import pytest

from core.config import Config
from core.errors import LoupeError
from core.review import Review, is_blind
from core.service import Service
from core.task_types.moderation import moderation_content
from tests.review_seed import seed_label_review, seed_moderation


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(service):
    clock = Clock()
    service.review.clock = clock
    return service, clock


def test_an_item_needing_two_reviewers_goes_to_two_different_people_and_never_twice_to_one(clocked):
    service, _ = clocked
    (loop,) = seed_moderation(service, task_count=2)
    a = service.review.next_task("ana")
    b = service.review.next_task("ben")
    assert a.loop.loop_id == b.loop.loop_id == loop.loop_id
    assert {a.slot, b.slot} == {0, 1}
    assert service.review.next_task("cy") is None  # both slots held
    assert service.review.next_task("ana") == a  # asking again resumes the held slot
    service.review.submit(a, moderation_content([("Weapons", "Violence")]))
    assert service.review.next_task("ana") is None  # answered already: never twice to the same person


def test_a_task_not_submitted_in_time_returns_to_the_queue(clocked):
    service, clock = clocked
    seed_moderation(service, task_count=1)
    a = service.review.next_task("ana")
    assert service.review.next_task("ben") is None
    clock.now += 601  # the workflow's time limit is 600 s
    b = service.review.next_task("ben")
    assert b is not None and b.slot == a.slot
    with pytest.raises(LoupeError, match="went to another reviewer"):
        service.review.submit(a, moderation_content([]))
    assert service.review.submit(b, moderation_content([])).is_completed


def test_submitting_twice_is_recorded_once_and_the_first_answer_stands(clocked):
    service, _ = clocked
    (loop,) = seed_moderation(service, task_count=2)
    task = service.review.next_task("ana")
    first = service.review.submit(task, moderation_content([("Weapons", "Violence")]))
    second = service.review.submit(task, moderation_content([]))
    assert first.is_recorded and not second.is_recorded
    answers = service.answers.for_loop(loop.loop_id)
    assert len(answers) == 1
    assert answers[0].content == moderation_content([("Weapons", "Violence")])


def test_a_double_click_from_two_threads_is_recorded_once(clocked):
    service, _ = clocked
    (loop,) = seed_moderation(service, task_count=2)
    task = service.review.next_task("ana")
    barrier = threading.Barrier(4)
    outcomes = []

    def click():
        barrier.wait()
        outcomes.append(service.review.submit(task, moderation_content([("Weapons", "Violence")])))

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.is_recorded for o in outcomes) == 1
    assert len(service.answers.for_loop(loop.loop_id)) == 1


def test_two_reviewers_submitting_at_the_same_moment_are_both_kept_and_the_loop_completes(config):
    first, second = Service(config), Service(config)  # two app processes' worth of connections
    try:
        (loop,) = seed_moderation(first, task_count=2)
        tasks = [first.review.next_task("ana"), second.review.next_task("ben")]
        barrier = threading.Barrier(2)
        results = []

        def submit(svc, task, picked):
            barrier.wait()
            results.append(svc.review.submit(task, moderation_content(picked)))

        threads = [threading.Thread(target=submit, args=(first, tasks[0], [("Weapons", "Violence")])),
                   threading.Thread(target=submit, args=(second, tasks[1], [("Weapons", "Violence")]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.is_recorded for r in results)
        assert {a.worker_id for a in first.answers.for_loop(loop.loop_id)} == {"ana", "ben"}
        assert first.loops.get(loop.loop_id).status == "Completed"
        assert first.consolidation.accepted_labels() == {loop.media_id: frozenset({"Weapons"})}
    finally:
        first.close()
        second.close()


def _claim_in_process(config: Config, worker: str, start, queue) -> None:
    svc = Service(config, start_jobs=False)
    try:
        start.wait()
        task = svc.review.next_task(worker)
        queue.put((worker, task.slot if task else None))
    finally:
        svc.close()


def test_reviewers_in_separate_processes_never_get_the_same_slot(config, monkeypatch):
    # A spawned process re-runs the parent's __main__; after an in-process AppTest that is the Streamlit app
    # script, so the children get a plain __main__ instead.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    svc = Service(config)
    seed_moderation(svc, task_count=2)
    svc.close()
    ctx = multiprocessing.get_context("spawn")
    start, queue = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_claim_in_process, args=(config, f"w{i}", start, queue)) for i in range(4)]
    for p in procs:
        p.start()
    start.set()
    got = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    slots = [slot for _, slot in got if slot is not None]
    assert sorted(slots) == [0, 1]  # two slots, two winners, two reviewers told the queue is empty


def test_the_queue_summary_says_what_is_left(clocked):
    service, _ = clocked
    seed_moderation(service, task_count=2, names=("cat.jpg", "coffee.jpg"))
    (summary,) = service.review.summary("ana", task_type="moderation")
    assert (summary.open_loops, summary.answers_needed, summary.available_to_worker) == (2, 4, 2)
    task = service.review.next_task("ana")
    service.review.submit(task, moderation_content([]))
    (summary,) = service.review.summary("ana", task_type="moderation")
    assert (summary.open_loops, summary.answers_needed, summary.available_to_worker) == (2, 3, 1)


def test_submit_leads_to_the_next_task(clocked):
    service, _ = clocked
    seed_moderation(service, task_count=1, names=("cat.jpg", "coffee.jpg"))
    first = service.review.next_task("ana")
    assert service.review.submit(first, moderation_content([])).is_completed
    second = service.review.next_task("ana")
    assert second is not None and second.loop.loop_id != first.loop.loop_id
    assert service.review.next_task("ana", task_type="label_review") is None


def test_an_answer_records_a2i_times_and_the_worker(clocked):
    service, clock = clocked
    (loop,) = seed_moderation(service, task_count=1)
    task = service.review.next_task("ana")
    clock.now += 12.5
    service.review.submit(task, moderation_content([("Weapons", "Violence")]))
    (answer,) = service.answers.for_loop(loop.loop_id)
    assert answer.worker_id == "ana" and answer.time_spent_s == 12.5
    assert answer.acceptance_time.endswith("Z") and answer.submission_time > answer.acceptance_time


def test_a_nameless_reviewer_gets_a_plain_error(service):
    with pytest.raises(LoupeError, match="Enter your name"):
        service.review.next_task("  ")


def test_blind_review_is_deterministic_per_loop_and_near_the_share():
    ids = [f"loop-{i}" for i in range(2000)]
    picks = [is_blind(i, 25) for i in ids]
    assert picks == [is_blind(i, 25) for i in ids]
    assert 0.2 < sum(picks) / len(picks) < 0.3
    assert not any(is_blind(i, 0) for i in ids)


def test_label_review_tasks_are_offered_only_to_the_label_review_page(clocked):
    service, _ = clocked
    seed_label_review(service)
    assert service.review.next_task("ana", task_type="moderation") is None
    assert service.review.next_task("ana", task_type="label_review") is not None


def test_review_is_built_on_the_generic_store_ops_only(config):
    assert set(Review.__init__.__code__.co_varnames) >= {"records", "workflows", "loops", "answers"}


def test_a_completed_item_is_marked_reviewed_in_the_catalog(clocked):
    service, _ = clocked
    (loop,) = seed_moderation(service, task_count=1)
    service.review.submit(service.review.next_task("ana"), moderation_content([]))
    assert service.catalog.get(loop.media_id).status == "reviewed"


def test_task_categories_follow_the_labels_that_triggered_the_loop():
    from core.domain import HumanLoop, Label, Prediction, Workflow
    from core.taxonomy import task_categories

    pred = Prediction("m", "v", (Label("Weapons", 0.6, category="moderation", parent_name="Violence"),
                                 Label("Smoking", 0.4, category="moderation", parent_name="Tobacco"),
                                 Label("Cat", 0.7)))
    wf = Workflow("wf")
    names = lambda loop, p=pred: [c.name for c in task_categories(wf, loop, p)]  # noqa: E731
    assert names(HumanLoop("l", "m", "wf", reasons=("Smoking",))) == ["Smoking"]
    assert names(HumanLoop("l", "m", "wf", reasons=("Cat",))) == ["Cat"]
    assert names(HumanLoop("l", "m", "wf")) == ["Weapons", "Smoking"]
    assert len(names(HumanLoop("l", "m", "wf"), None)) == 44
    (smoking,) = task_categories(wf, HumanLoop("l", "m", "wf", reasons=("Smoking",)), pred)
    assert smoking.parent_name == "Tobacco" and smoking.description == "Under Tobacco · model 40%"


def test_the_queue_summary_sees_work_done_by_another_process(config):
    first, second = Service(config, start_jobs=False), Service(config, start_jobs=False)
    try:
        seed_moderation(first, task_count=1, names=("cat.jpg",))
        (before,) = second.review.summary("ben", task_type="moderation")
        seed_moderation(first, task_count=1, names=("coffee.jpg",))
        first.review.submit(first.review.next_task("ana"), moderation_content([]))
        (after,) = second.review.summary("ben", task_type="moderation")
        assert (before.open_loops, after.open_loops, after.answers_needed) == (1, 1, 1)
    finally:
        first.close()
        second.close()


def test_a_skipped_task_goes_back_to_the_queue_and_comes_last_for_the_one_who_skipped(clocked):
    service, _ = clocked
    seed_moderation(service, task_count=1, names=("cat.jpg", "coffee.jpg"))
    first = service.review.next_task("ana")
    service.review.release(first)
    assert service.review.next_task("ben").loop.loop_id == first.loop.loop_id  # free again for others
    other = service.review.next_task("ana", skip=frozenset({first.loop.loop_id}))
    assert other.loop.loop_id != first.loop.loop_id
