"""Consolidation and agreement: votes, weights, box clustering, final labels, kappa and alpha."""
from __future__ import annotations

from dataclasses import replace

import pytest

from core.agreement import cohen_kappa, krippendorff_alpha, measure
from core.consolidation import cluster_boxes, final_labels, iou, reviewer_weights, vote
from core.domain import BoundingBox, Label, Prediction
from core.task_types.moderation import moderation_content
from tests.review_seed import GENERAL, MODERATION, seed_label_review, seed_moderation


def test_majority_vote_needs_more_than_half():
    decisions = {d.name: d for d in vote({"a": {"Weapons"}, "b": {"Weapons", "Drugs"}, "c": set()}, ["Pills"])}
    assert decisions["Weapons"].is_majority and decisions["Weapons"].is_accepted
    assert not decisions["Drugs"].is_majority and not decisions["Drugs"].is_accepted
    assert decisions["Pills"].votes == 0 and decisions["Pills"].confidence == 1.0


def test_weighted_vote_lets_a_reliable_reviewer_outweigh_an_unreliable_one():
    decisions = {d.name: d for d in vote({"good": {"Weapons"}, "poor": set()}, [], {"good": 0.9, "poor": 0.3})}
    assert decisions["Weapons"].is_accepted and not decisions["Weapons"].is_majority
    assert decisions["Weapons"].weighted_score == pytest.approx(0.75)


def test_reviewer_weights_follow_agreement_with_the_consensus():
    items = [{"a": {"X"}, "b": {"X"}, "c": set()}, {"a": {"Y"}, "b": {"Y"}, "c": set()}]
    w = reviewer_weights(items)
    assert w["a"] == w["b"] > w["c"]


def test_boxes_cluster_by_iou_and_average():
    boxes = {"a": [("Cat", BoundingBox(0.1, 0.1, 0.4, 0.4))], "b": [("Cat", BoundingBox(0.12, 0.1, 0.4, 0.42))],
             "c": [("Cat", BoundingBox(0.7, 0.7, 0.2, 0.2))]}
    (box,) = cluster_boxes(boxes)
    assert box.label == "Cat" and box.votes == 2
    assert box.box.left == pytest.approx(0.11) and box.box.height == pytest.approx(0.41)
    assert iou(BoundingBox(0, 0, 1, 1), BoundingBox(0, 0, 0.5, 1)) == pytest.approx(0.5)


def test_final_labels_say_which_came_from_people_and_which_were_auto_accepted(service):
    (loop,) = seed_moderation(service, task_count=1)
    task = service.review.next_task("ana")
    service.review.submit(task, moderation_content([("Weapons", "Violence")]))
    finals = {f.name: f.source for f in service.consolidation.final_labels(loop.media_id, 0.5)}
    assert finals == {"Weapons": "human"}  # Violence reviewed and left out; Cat, an image label, not this workflow's
    service.predictions.save(replace(service.predictions.get(loop.media_id), labels=MODERATION + GENERAL + (
        Label("Explosions And Blasts", 0.7, category="moderation"),)))  # the model relabeled it after the review
    finals = {f.name: f.source for f in service.consolidation.final_labels(loop.media_id, 0.5)}
    assert finals == {"Weapons": "human", "Explosions And Blasts": "auto"}


def test_each_workflow_auto_accepts_only_model_labels_of_its_own_category(service):
    both = GENERAL + (Label("Explosions And Blasts", 0.95, category="moderation"),)
    (loop,) = seed_label_review(service, names=("cat.jpg",), labels=both)
    assert {f.name for f in service.consolidation.final_labels(loop.media_id, 0.5, "label-flow")} == {"Cat", "Animal"}
    pred = service.predictions.get(loop.media_id)
    assert {f.name for f in final_labels(pred, None, 0.5, task_type="label_review")} == {"Cat", "Animal"}
    assert {f.name for f in final_labels(pred, None, 0.5, task_type="moderation")} == {"Explosions And Blasts"}
    assert {f.name for f in final_labels(pred, None, 0.5)} == {"Cat", "Animal", "Explosions And Blasts"}


def test_ground_truth_holds_consolidated_human_labels_per_reviewed_item(service):
    loops = seed_moderation(service, task_count=2, names=("cat.jpg", "coffee.jpg"))
    for worker, picks in (("ana", [("Weapons", "Violence")]), ("ben", [("Weapons", "Violence"), ("Pills", "Drugs")])):
        while (task := service.review.next_task(worker)) is not None:
            service.review.submit(task, moderation_content(picks))
    truth = service.consolidation.accepted_labels()
    assert truth == {lp.media_id: frozenset({"Weapons"}) for lp in loops}
    cons = service.consolidation.get(loops[0].media_id)
    assert cons.reviewers == ("ana", "ben") and 0 < cons.confidence <= 1


def test_label_review_boxes_and_added_labels_are_consolidated(service):
    (loop,) = seed_label_review(service, task_count=1)
    task = service.review.next_task("ana", task_type="label_review")
    content = {"labels": [{"name": "Cat", "confidence": 0.93, "source": "model"},
                          {"name": "Polo shirt", "confidence": 1.0, "source": "human"}],
               "boxes": [{"label": "Cat", "left": 0.1, "top": 0.1, "width": 0.5, "height": 0.6}], "isBlind": False}
    service.review.submit(task, content)
    cons = service.consolidation.get(loop.media_id)
    assert cons.accepted == {"Cat", "Polo shirt"}
    assert not {d.name for d in cons.labels if d.is_accepted} & {"Dog", "Animal"}
    assert cons.boxes[0].label == "Cat"


def test_cohen_kappa_matches_a_worked_example():
    a = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    b = [True] * 20 + [True] * 5 + [False] * 10 + [False] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa([True, False], [True, False]) == 1.0
    assert cohen_kappa([], []) is None


def test_krippendorff_alpha_is_one_for_perfect_agreement_and_none_without_overlap():
    units = {("m1", "X"): {"a": True, "b": True}, ("m1", "Y"): {"a": False, "b": False}}
    assert krippendorff_alpha(units, ["a", "b"]) == 1.0
    assert krippendorff_alpha({("m1", "X"): {"a": True}}, ["a", "b"]) is None


def test_agreement_report_counts_reviewer_work_and_model_accuracy(service):
    (loop,) = seed_moderation(service, task_count=2)
    for worker, picks in (("ana", [("Weapons", "Violence")]), ("ben", [("Weapons", "Violence")])):
        service.review.submit(service.review.next_task(worker), moderation_content(picks))
    report = measure(service.answers.all(), service.loops.list(), service.consolidation.all(),
                     {p.media_id: p for p in service.predictions.all()}, 0.5)
    assert [r.tasks_done for r in report.reviewers] == [1, 1]
    assert all(r.agreement == 1.0 for r in report.reviewers)
    assert report.pairs[0].kappa == 1.0 and report.alpha == 1.0
    # The model said Weapons and Violence (0.62) but not Alcoholic Beverages (0.41); people kept only Weapons.
    assert report.model.decisions == 3 and report.model.accuracy == pytest.approx(2 / 3, abs=1e-3)


def test_final_labels_of_an_unreviewed_item_are_the_auto_accepted_ones():
    pred = Prediction("m", "v1", (Label("Cat", 0.9), Label("Dog", 0.2)))
    assert [(f.name, f.source) for f in final_labels(pred, None, 0.5)] == [("Cat", "auto")]


def test_blind_comparison_separates_tasks_that_saw_the_model_from_blind_ones(service):
    seed_label_review(service, names=("cat.jpg", "coffee.jpg"))
    contents = iter([
        {"labels": [{"name": "Cat"}, {"name": "Animal"}], "boxes": [], "isBlind": False},  # same as the model
        {"labels": [{"name": "Cat"}], "boxes": [], "isBlind": True},  # half of it
    ])
    while (task := service.review.next_task("ana", task_type="label_review")) is not None:
        service.review.submit(task, next(contents))
    report = service.results.blind(workflow="label-flow")
    assert (report.shown_tasks, report.shown_match) == (1, 1.0)
    assert (report.blind_tasks, report.blind_match) == (1, 0.5)


def test_cached_results_refresh_when_a_new_answer_comes_in(service):
    loops = seed_moderation(service, task_count=1, names=("cat.jpg", "coffee.jpg"))
    service.review.submit(service.review.next_task("ana"), moderation_content([]))
    assert len(service.results.items()) == 1
    assert service.results.items() is service.results.items()  # unchanged data: served from the cache
    service.review.submit(service.review.next_task("ana"), moderation_content([("Weapons", "Violence")]))
    assert {i.media_id for i in service.results.items()} == {lp.media_id for lp in loops}
    assert service.results.agreement().reviewers[0].tasks_done == 2


def test_a_box_counts_only_under_a_label_people_accepted(service):
    """Answers stored before unticking took boxes along may still hold a box of an unticked label."""
    (loop,) = seed_label_review(service, task_count=1)
    task = service.review.next_task("ana", task_type="label_review")
    service.review.submit(task, {"labels": [{"name": "Animal", "confidence": 0.91, "source": "model"}],
                                 "boxes": [{"label": "Cat", "left": 0.1, "top": 0.1, "width": 0.5, "height": 0.6}]})
    cons = service.consolidation.get(loop.media_id, "label-flow")
    assert cons.accepted == {"Animal"} and cons.boxes == ()
