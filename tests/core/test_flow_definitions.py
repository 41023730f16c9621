"""Workflows exported as CreateFlowDefinition requests, checked against botocore's own sagemaker model."""
from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator

from core.domain import Workflow
from core.errors import LoupeError
from core.flow_definitions import flow_definition_name, to_create_flow_definition
from core.formats.a2i import MODERATION_SOURCE
from core.routing import workflow_with_thresholds
from core.routing_policy import Thresholds


@pytest.fixture(scope="module")
def request_shape():
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateFlowDefinition").input_shape


def assert_valid(request, shape):
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_a_moderation_workflow_exports_a_valid_request_with_its_conditions(request_shape):
    wf = workflow_with_thresholds(
        Workflow(name="Moderation-Pass", task_count=3, title="Check flagged images", audit_percent=5,
                 categories=("Violence", "Drugs", "Drugs & Tobacco")),
        Thresholds(high=0.8), ["Weapons"])
    request = to_create_flow_definition(wf)
    assert_valid(request, request_shape)
    assert request["FlowDefinitionName"] == "moderation-pass"
    assert request["HumanLoopRequestSource"] == {"AwsManagedHumanLoopRequestSource": MODERATION_SOURCE}
    assert request["HumanLoopConfig"]["TaskCount"] == 3
    assert request["HumanLoopConfig"]["TaskKeywords"] == ["Violence", "Drugs"]  # "&" is not allowed
    activation = request["HumanLoopActivationConfig"]["HumanLoopActivationConditionsConfig"]
    conditions = activation["HumanLoopActivationConditions"]
    assert json.loads(conditions) == wf.routing.conditions and len(conditions) <= 10_240


def test_custom_task_types_export_without_activation_conditions(request_shape):
    request = to_create_flow_definition(Workflow(name="labels", task_type="label_review"))
    assert_valid(request, request_shape)
    assert "HumanLoopActivationConfig" not in request and "HumanLoopRequestSource" not in request


def test_botocores_validator_would_catch_a_broken_request(request_shape):
    request = to_create_flow_definition(Workflow(name="x"))
    del request["RoleArn"]
    request["HumanLoopConfig"]["TaskCount"] = "three"
    report = ParamValidator().validate(request, request_shape)
    assert report.has_errors() and "RoleArn" in report.generate_report()


def test_names_a2i_cannot_take_are_refused_in_plain_words():
    with pytest.raises(LoupeError, match="can't be an A2I flow definition name"):
        flow_definition_name("-bad")
