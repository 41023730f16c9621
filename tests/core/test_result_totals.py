"""The Results totals kept as items change (core/result_totals.py): after random reviews, re-consolidations, new
predictions and threshold changes they equal a recount from every record, and the figures derived from them equal
the full computation over every answer (core/agreement.py)."""
from __future__ import annotations

import dataclasses
import random
import statistics

import pytest
from PIL import Image

from core.agreement import compare_blind, measure
from core.consolidation import consolidate_answers
from core.domain import Answer, HumanLoop, Label, Prediction, Workflow
from core.loops import loop_id_for
from core.result_totals import (
    ALL,
    META,
    ROW_KIND,
    ItemInputs,
    derive,
    item_counts,
    model_labels,
    tenths,
    times_name,
    totals_name,
)
from core.routing_policy import DEFAULT_THRESHOLD, RoutingPolicy
from core.task_types.label_review import label_review_content
from core.task_types.moderation import moderation_content
from core.task_types.transcript_review import review_answer_content

WORKERS = ("ann", "ben", "cy", "dee")
GENERAL = ("Cat", "Dog", "Animal", "Cup")
MODERATION = (("Weapons", "Violence"), ("Violence", ""), ("Alcoholic Beverages", "Alcohol"))


def kept_counters(records) -> dict[str, dict[str, int]]:
    """Every Results counter a row or the last recount names, without zero fields."""
    names = set(records.get(*META).body.get("counters", []))
    names |= {n for r in records.query(ROW_KIND) for n in r.body.get("counts", {})}
    return {n: c for n in sorted(names) if (c := {k: v for k, v in records.counts(n).items() if v})}


def figures(service, flows) -> dict:
    return {scope: dataclasses.replace(service.results.view(workflow=scope), signature=())
            for scope in (None, *flows)}


def assert_kept_equals_recount(service, flows) -> None:
    before, kept = figures(service, flows), kept_counters(service.records)
    service.results.recount()
    assert kept_counters(service.records) == kept
    assert figures(service, flows) == before


def _prediction(rng: random.Random, media_id: str) -> Prediction:
    labels = [Label(n, round(rng.random(), 3)) for n in GENERAL]
    labels += [Label(n, round(rng.random(), 3), category="moderation", parent_name=p) for n, p in MODERATION]
    return Prediction(media_id, "test-model-1", tuple(labels))


def _content(rng: random.Random, task) -> dict:
    if task.workflow.task_type == "moderation":
        return moderation_content([m for m in MODERATION if rng.random() < 0.5])
    kept = [(n, 0.9) for n in GENERAL if rng.random() < 0.5]
    return label_review_content(kept, ["Hat"] if rng.random() < 0.2 else [], [], (64, 48),
                                is_blind=rng.random() < 0.5)


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_totals_equal_a_recount_after_random_reviews_and_changes(service, tmp_path, seed):
    rng = random.Random(seed)
    flows = ("mod", "lab", "solo")
    service.workflows.save(Workflow(name="mod", task_type="moderation", task_count=2, time_limit_s=600))
    service.workflows.save(Workflow(name="lab", task_type="label_review", task_count=3, blind_percent=50,
                                    routing=RoutingPolicy(accept_at=0.6), time_limit_s=600))
    service.workflows.save(Workflow(name="solo", task_type="moderation", task_count=1, time_limit_s=600))
    media = []
    for i in range(10):
        path = tmp_path / f"img-{i}.png"
        Image.new("RGB", (64, 48), (i * 20, 100, 200 - i * 10)).save(path)
        media.append(service.catalog.ingest_file(path).media_id)
        service.predictions.save(_prediction(rng, media[-1]))
        for wf in rng.sample(flows, rng.randint(1, 2)):
            task_count = service.workflows.get(wf).task_count
            service.loops.create(HumanLoop(loop_id_for(wf, media[-1]), media[-1], wf, task_count=task_count))
    service.results.view()  # the first load counts the store; every change after is folded in
    steps = 0
    while True:
        worker = rng.choice(WORKERS)
        task = service.review.next_task(worker)
        if task is None and not any(service.review.next_task(w) for w in WORKERS):
            break
        if task is None:
            continue
        service.review.submit(task, _content(rng, task))
        steps += 1
        if steps % 9 == 0:
            service.results.view(workflow=rng.choice([None, *flows]))  # some changes folded now, some later
        if steps == 15:
            service.predictions.save_many([_prediction(rng, m) for m in rng.sample(media, 3)])
        if steps == 20:
            service.consolidation.reconsolidate_all()
    assert steps >= 20
    assert_kept_equals_recount(service, flows)
    wf = service.workflows.get("lab")
    service.workflows.save(dataclasses.replace(wf, routing=dataclasses.replace(wf.routing, accept_at=0.2)),
                           expected_version=service.workflows.version("lab"))
    assert_kept_equals_recount(service, flows)


def test_the_figures_from_totals_equal_the_full_computation_over_every_answer():
    rng = random.Random(7)
    loops, answers, results, predictions, thresholds = [], [], [], {}, {"a": 0.5, "b": 0.7}
    items = []
    for i in range(60):
        media_id = f"m{i:03d}"
        predictions[media_id] = _prediction(rng, media_id)
        for wf in rng.sample(["a", "b"], rng.randint(1, 2)):
            loop = HumanLoop(loop_id_for(wf, media_id), media_id, wf, status="Completed")
            mine = []
            for w in rng.sample(WORKERS, rng.randint(1, 3)):
                content = (review_answer_content(1, "words", 0.1) if rng.random() < 0.1 else
                           label_review_content([(n, 0.9) for n in GENERAL if rng.random() < 0.5], [], [], (10, 10),
                                                is_blind=rng.random() < 0.3))
                mine.append(Answer(loop.loop_id, w, content, time_spent_s=round(rng.uniform(1, 90), 3)))
            cons = consolidate_answers(media_id, mine, loops=[loop], workflow=wf, task_type="label_review",
                                       candidates=GENERAL) if rng.random() < 0.8 else None
            loops.append(loop)
            answers += mine
            results += [cons] if cons else []
        items.append(ItemInputs(media_id, tuple(lp for lp in loops if lp.media_id == media_id),
                                {lp.loop_id: [a for a in answers if a.loop_id == lp.loop_id] for lp in loops
                                 if lp.media_id == media_id},
                                {c.workflow: c for c in results if c.media_id == media_id},
                                model_labels(predictions[media_id])))
    totals: dict[str, dict[str, int]] = {}
    for item in items:
        for name, fields in item_counts(item, thresholds).items():
            into = totals.setdefault(name, {})
            for k, v in fields.items():
                into[k] = into.get(k, 0) + v
    for scope in (ALL, "a", "b"):
        in_scope = [lp for lp in loops if scope == ALL or lp.workflow == scope]
        ids = {lp.loop_id for lp in in_scope}
        scoped = [a for a in answers if a.loop_id in ids]
        cons = [c for c in results if scope == ALL or c.workflow == scope]
        threshold = thresholds.get(scope, DEFAULT_THRESHOLD)
        got = derive(totals.get(totals_name(scope), {}),
                     {w: totals.get(times_name(scope, w), {}) for w in WORKERS})
        want = measure(scoped, in_scope, cons, predictions, threshold)
        medians = {w: round(statistics.median([tenths(a.time_spent_s) for a in scoped if a.worker_id == w]) / 10, 2)
                   for w in {a.worker_id for a in scoped}}  # medians are kept in tenths of a second
        want = dataclasses.replace(want, reviewers=tuple(dataclasses.replace(r, median_time_s=medians[r.worker_id])
                                                         for r in want.reviewers))
        assert got.agreement == want and want.alpha is not None and want.model.decisions > 0
        assert got.blind == compare_blind([a for a in scoped if "isBlind" in a.content], in_scope, predictions,
                                          threshold)
        assert (got.results, got.items) == (len(cons), len({c.media_id for c in cons}))
        assert got.blind.blind_tasks and got.blind.shown_tasks and len(want.pairs) == 6


def test_a_big_prediction_import_refreshes_the_reviewed_items_it_names(service):
    from tests.review_seed import seed_moderation

    (loop,) = seed_moderation(service, task_count=1, workflow="mod")
    service.review.submit(service.review.next_task("ann"), moderation_content([("Weapons", "Violence")]))
    before = service.results.agreement().model
    relabeled = Prediction(loop.media_id, "test-model-2", (Label("Weapons", 0.01, category="moderation"),
                                                            Label("Violence", 0.01, category="moderation")))
    others = [Prediction(f"{i:064x}", "test-model-2", (Label("Cat", 0.9),)) for i in range(2_100)]
    service.predictions.save_many([*others, relabeled])  # past the key-by-key lookups: one pass over the rows
    after = service.results.agreement().model
    assert after.decisions == before.decisions and after.recall == 0.0 != before.recall  # the model now said no
    assert_kept_equals_recount(service, ("mod",))
