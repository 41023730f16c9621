"""Automated labeling at a target precision: per-label accept and drop thresholds from people's answers, the items
no person would need to see, and the workflow option that routes by them."""
from __future__ import annotations

from core.automation import automation, bands, measure
from core.domain import Answer, HumanLoop, Label, Prediction, Workflow
from core.loops import loop_id_for
from core.routing_policy import DROP_REVIEW_ACCEPT


def evidence(n: int = 40):
    """Cat is kept when the model is sure (>= 0.6) and removed below; Dog is always removed; Hat is a coin toss."""
    confidence, truth = {}, {}
    for i in range(n):
        c = i / n
        confidence[f"m{i}"] = {"Cat": c, "Dog": 0.2 + (i % 5) * 0.01, "Hat": 0.5 if i % 4 == 0 else 0.0}
        if confidence[f"m{i}"]["Hat"] == 0.0:
            del confidence[f"m{i}"]["Hat"]
        truth[f"m{i}"] = frozenset({"Cat"} if c >= 0.6 else set()) | ({"Hat"} if i % 8 == 0 else set())
    return confidence, truth


def test_each_label_gets_accept_and_drop_thresholds_that_meet_the_target_on_reviewed_items():
    confidence, truth = evidence()
    by_name = {b.name: b for b in bands(confidence, truth, 0.95)}
    assert by_name["Cat"].accept_at == by_name["Cat"].drop_below == 0.58  # the grid's first percent above 0.575
    assert by_name["Dog"].accept_at is None and by_name["Dog"].drop_below >= 0.25  # people always remove it
    assert by_name["Hat"].accept_at is None and by_name["Hat"].drop_below == 0.0  # kept half the time: people


def test_an_item_is_automated_only_when_every_label_is_accepted_or_dropped():
    confidence, truth = evidence()
    result = automation(confidence, truth, 0.95)
    assert result.items == 40 and result.automated == 30  # the ten items with a coin-toss Hat go to people
    assert result.precision == 1.0 and result.exact == 30
    assert measure(confidence, truth, (), 0.95).automated == 0  # no evidence: everything goes to people


def test_the_bands_become_drop_review_accept_routing_thresholds():
    confidence, truth = evidence()
    thresholds = automation(confidence, truth, 0.95).thresholds()
    assert thresholds.mode == DROP_REVIEW_ACCEPT and thresholds.category == "general"
    assert (thresholds.high, thresholds.low) == (1.0, 0.0)  # labels without evidence go to people
    assert dict((n, (lo, hi)) for n, lo, hi in thresholds.overrides)["Cat"] == (0.58, 0.58)


def test_a_label_review_workflow_routes_by_the_evidence_and_keeps_its_audit_sample(service):
    service.workflows.save(Workflow(name="labels", task_type="label_review", audit_percent=10.0))
    confidence, truth = evidence()
    for media_id, labels in confidence.items():
        service.predictions.save(Prediction(media_id, "m-1", tuple(Label(n, c) for n, c in labels.items())))
        loop = HumanLoop(loop_id_for("labels", media_id), media_id, "labels", status="Completed")
        service.loops.create(loop)
        service.answers.submit(Answer(loop.loop_id, "ann", {"labels": [{"name": n} for n in truth[media_id]]}))
        service.consolidation.consolidate(media_id, "labels", loops=[loop])
    result = service.learning.automate("labels", 0.95)
    assert round(result.rate, 2) == 0.75
    wf = service.workflows.get("labels")
    assert wf.audit_percent == 10.0 and wf.routing.thresholds.mode == DROP_REVIEW_ACCEPT
    assert ("Cat", 0.58, 0.58) in wf.routing.thresholds.overrides
