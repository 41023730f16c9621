"""Stored workflows: the routing policy is one typed value, and records saved before it existed still load."""
from __future__ import annotations

from core.domain import Workflow
from core.routing_policy import DROP_REVIEW_ACCEPT, RoutingPolicy, Thresholds
from core.workflows import KIND


def test_a_workflow_saved_with_the_three_old_routing_fields_loads_as_one_policy(service):
    conditions = {"Conditions": [{"ConditionType": "ModerationLabelConfidenceCheck",
                                  "ConditionParameters": {"ModerationLabelName": "*", "ConfidenceLessThan": 90}}]}
    service.records.create(KIND, "old-flow", {
        "name": "old-flow", "task_type": "moderation", "task_count": 2, "threshold": 0.9,
        "thresholds": {"high": 0.9, "low": 0.3, "mode": "two", "category": "moderation",
                       "overrides": {"Weapons": {"low": 0.2, "high": 0.95}}},
        "activation_conditions": conditions})
    wf = service.workflows.get("old-flow")
    assert wf.task_count == 2
    assert wf.routing == RoutingPolicy(accept_at=0.9, conditions=conditions, thresholds=Thresholds(
        high=0.9, low=0.3, mode=DROP_REVIEW_ACCEPT, overrides=(("Weapons", 0.2, 0.95),), category="moderation"))


def test_an_old_workflow_with_conditions_only_keeps_no_thresholds(service):
    service.records.create(KIND, "imported", {"name": "imported", "thresholds": {}, "activation_conditions": {}})
    assert service.workflows.get("imported").routing == RoutingPolicy()


def test_a_saved_workflow_is_written_in_the_new_shape_and_reads_back_equal(service):
    wf = Workflow(name="new-flow", routing=RoutingPolicy(accept_at=0.7, thresholds=Thresholds(
        high=0.7, overrides=(("Drugs", 0.0, 0.6),)), conditions={"Conditions": []}))
    version = service.workflows.save(wf)
    body = service.records.get(KIND, "new-flow").body
    assert "routing" in body and not {"threshold", "thresholds", "activation_conditions"} & set(body)
    assert service.workflows.get("new-flow").routing == wf.routing
    old = service.workflows.get("new-flow")
    service.workflows.save(old, expected_version=version)  # an update writes the new shape too
    assert service.workflows.list()[0].routing == wf.routing
