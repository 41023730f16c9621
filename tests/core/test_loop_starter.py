"""Starting human loops from a workflow's routing policy: thresholds, imported conditions, and none."""
from __future__ import annotations

import pytest

from core.domain import Label, Prediction, Workflow
from core.errors import LoupeError
from core.routing import workflow_with_thresholds
from core.routing_policy import RoutingPolicy, Thresholds


def predictions(items: dict[str, list[tuple[str, float]]]) -> list[Prediction]:
    return [Prediction(mid, "test-model-1", tuple(Label(n, c, category="moderation") for n, c in labels))
            for mid, labels in items.items()]


def test_starting_human_loops_creates_each_loop_once_with_reasons_and_audit_marks(service):
    items = {f"m{i:03d}": [("Weapons", 0.95)] for i in range(200)}
    items["low"] = [("Weapons", 0.3), ("Drugs", 0.97)]
    service.predictions.save_many(predictions(items))
    thresholds = Thresholds(high=0.5)
    wf = workflow_with_thresholds(Workflow(name="mod-a", audit_percent=10, task_count=2), thresholds,
                                  service.routing.frame("moderation").label_names)
    service.workflows.save(wf)
    first = service.loop_starter.start_loops("mod-a")
    routed = service.routing.route(thresholds, 10)
    assert first.created == int(routed.needs_people.sum()) == first.review + first.audit
    assert first.review == 1 and 5 <= first.audit <= 40
    again = service.loop_starter.start_loops("mod-a")
    assert again.created == 0 and again.existing == first.created
    loops = {lp.media_id: lp for lp in service.loops.list(workflow="mod-a")}
    assert len(loops) == first.created
    assert loops["low"].reasons == ("Weapons",) and not loops["low"].is_audit and loops["low"].task_count == 2
    assert loops["low"].activation_results["Conditions"][0]["EvaluationResult"] is True
    audit = [lp for lp in loops.values() if lp.is_audit]
    assert len(audit) == first.audit and all(lp.reasons == ("Weapons",) for lp in audit)


def test_starting_loops_marks_ingested_media_in_review(service, tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.new("RGB", (32, 24), (200, 40, 40)).save(path)
    media_id = service.catalog.ingest_file(path).media_id
    service.predictions.save_many(predictions({media_id: [("Weapons", 0.4)]}))
    service.workflows.save(Workflow(name="cond-only", routing=RoutingPolicy(conditions={"Conditions": [
        {"ConditionType": "ModerationLabelConfidenceCheck",
         "ConditionParameters": {"ModerationLabelName": "*", "ConfidenceLessThan": 50}}]})))
    outcome = service.loop_starter.start_loops("cond-only")
    assert outcome.created == 1
    assert service.catalog.get(media_id).status == "in_review"


def test_imported_conditions_route_items_and_mark_loops_started_only_by_sampling_as_audit(service):
    service.predictions.save_many(predictions({f"m{i:03d}": [("Weapons", 0.2 if i < 10 else 0.9)] for i in range(100)}))
    service.workflows.save(Workflow(name="imported", routing=RoutingPolicy(conditions={"Conditions": [
        {"ConditionType": "ModerationLabelConfidenceCheck",
         "ConditionParameters": {"ModerationLabelName": "Weapons", "ConfidenceLessThan": 50}},
        {"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 20}}]})))
    outcome = service.loop_starter.start_loops("imported")
    loops = service.loops.list(workflow="imported")
    low = [lp for lp in loops if lp.media_id < "m010"]
    assert len(low) == 10 and not any(lp.is_audit for lp in low)
    sampled = [lp for lp in loops if lp.media_id >= "m010"]
    assert sampled and all(lp.is_audit for lp in sampled) and outcome.audit == len(sampled)
    assert 5 <= len(sampled) <= 35


def test_a_workflow_with_nothing_to_route_by_says_so(service):
    service.workflows.save(Workflow(name="empty"))
    with pytest.raises(LoupeError, match="neither thresholds nor activation conditions"):
        service.loop_starter.start_loops("empty")


def test_starting_loops_in_the_background_reports_what_was_created(service):
    service.predictions.save_many(predictions({"low": [("Weapons", 0.3)], "high": [("Weapons", 0.95)]}))
    service.workflows.save(workflow_with_thresholds(Workflow(name="bg"), Thresholds(high=0.5),
                                                    service.routing.frame("moderation").label_names))
    job = service.jobs.wait(service.loop_starter.submit("bg", created_by="ann").job_id, 30)
    assert job.status == "succeeded" and job.kind == "route" and job.created_by == "ann"
    assert job.result == {"workflow": "bg", "created": 1, "already_existed": 0, "review": 1, "audit": 0}
