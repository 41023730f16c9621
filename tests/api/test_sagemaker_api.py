"""sagemaker flow definitions and human task UIs through a real boto3 client: a flow definition is a workflow."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from core.domain import Workflow
from tests.api.test_a2i_runtime_api import ROLE, WORKTEAM, create_custom_flow, task_input

MODERATION_SOURCE = "AWS/Rekognition/DetectModerationLabels/Image/V3"
CONDITIONS = {"Conditions": [{"ConditionType": "ModerationLabelConfidenceCheck",
                              "ConditionParameters": {"ModerationLabelName": "Suggestive", "ConfidenceLessThan": 98}}]}
TEMPLATE = ('<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
            '<crowd-form>{{ task.input.taskObject }}</crowd-form>')


def create_moderation_flow(sagemaker, name: str = "moderation", conditions=CONDITIONS, task_count: int = 2,
                           output: str = "s3://loupe-output/a2i/") -> str:
    return sagemaker.create_flow_definition(
        FlowDefinitionName=name, RoleArn=ROLE,
        HumanLoopRequestSource={"AwsManagedHumanLoopRequestSource": MODERATION_SOURCE},
        HumanLoopActivationConfig={"HumanLoopActivationConditionsConfig": {
            "HumanLoopActivationConditions": json.dumps(conditions)}},
        HumanLoopConfig={"WorkteamArn": WORKTEAM,
                         "HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:111122223333:human-task-ui/m",
                         "TaskTitle": "Moderate", "TaskDescription": "Pick what applies", "TaskCount": task_count,
                         "TaskTimeLimitInSeconds": 600},
        OutputConfig={"S3OutputPath": output})["FlowDefinitionArn"]


def test_creating_a_flow_definition_saves_the_workflow_the_thresholds_page_uses(api):
    sagemaker = api.client("sagemaker")
    arn = create_moderation_flow(sagemaker)
    wf = api.service.workflows.get("moderation")
    assert (wf.task_type, wf.task_count, wf.time_limit_s, wf.title) == ("moderation", 2, 600, "Moderate")
    assert wf.routing.conditions == CONDITIONS
    described = sagemaker.describe_flow_definition(FlowDefinitionName="moderation")
    assert described["FlowDefinitionArn"] == arn and described["FlowDefinitionStatus"] == "Active"
    assert json.loads(described["HumanLoopActivationConfig"]["HumanLoopActivationConditionsConfig"]
                      ["HumanLoopActivationConditions"]) == CONDITIONS
    assert described["OutputConfig"] == {"S3OutputPath": "s3://loupe-output/a2i/"} and described["RoleArn"] == ROLE
    assert described["HumanLoopConfig"]["WorkteamArn"] == WORKTEAM and described["HumanLoopConfig"]["TaskCount"] == 2


def test_a_workflow_saved_on_the_pages_is_a_flow_definition_and_edits_show_through(api):
    sagemaker = api.client("sagemaker")
    api.service.workflows.save(Workflow(name="page-made", task_type="label_review", task_count=3))
    described = sagemaker.describe_flow_definition(FlowDefinitionName="page-made")
    assert described["HumanLoopConfig"]["TaskCount"] == 3 and "HumanLoopRequestSource" not in described
    assert described["OutputConfig"]["S3OutputPath"] == f"s3://{api.service.config.s3_bucket or 'local'}/a2i-output/"
    create_moderation_flow(sagemaker)
    wf = api.service.workflows.get("moderation")
    tighter = {"Conditions": [{"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 5}}]}
    api.service.workflows.save(replace(wf, routing=replace(wf.routing, conditions=tighter)),
                               expected_version=api.service.workflows.version("moderation"))
    described = sagemaker.describe_flow_definition(FlowDefinitionName="moderation")
    assert json.loads(described["HumanLoopActivationConfig"]["HumanLoopActivationConditionsConfig"]
                      ["HumanLoopActivationConditions"]) == tighter
    assert described["OutputConfig"] == {"S3OutputPath": "s3://loupe-output/a2i/"}  # the API's own fields are kept


def test_list_flow_definitions_pages_and_sorts_with_the_paginator(api):
    sagemaker = api.client("sagemaker")
    names = [f"flow-{i}" for i in range(5)]
    for name in names:
        create_custom_flow(api, name)
    paginator = sagemaker.get_paginator("list_flow_definitions")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["FlowDefinitionSummaries"]) for p in pages] == [2, 2, 1]
    assert [s["FlowDefinitionName"] for p in pages for s in p["FlowDefinitionSummaries"]] == names[::-1]
    ascending = paginator.paginate(SortOrder="Ascending").build_full_result()["FlowDefinitionSummaries"]
    assert [s["FlowDefinitionName"] for s in ascending] == names
    assert all(s["FlowDefinitionStatus"] == "Active" and s["FlowDefinitionArn"].endswith(s["FlowDefinitionName"])
               for s in ascending)


def test_names_in_use_missing_flows_and_bad_conditions_get_sagemakers_error_codes(api):
    sagemaker = api.client("sagemaker")
    create_moderation_flow(sagemaker)
    with pytest.raises(sagemaker.exceptions.ResourceInUse):
        create_moderation_flow(sagemaker)
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.describe_flow_definition(FlowDefinitionName="missing")
    one_member_and = {"Conditions": [{"And": [CONDITIONS["Conditions"][0]]}]}
    with pytest.raises(sagemaker.exceptions.ClientError, match="at least two") as caught:
        create_moderation_flow(sagemaker, "bad-and", one_member_and)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(sagemaker.exceptions.ClientError, match="TaskCount") as caught:
        create_moderation_flow(sagemaker, "four-reviewers", task_count=4)  # the model allows 1-3
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert api.service.workflows.version("bad-and") is None and api.service.workflows.version("four-reviewers") is None


def test_a_flow_definition_with_loops_in_progress_is_in_use_and_deleting_it_removes_the_workflow(api):
    sagemaker, a2i = api.client("sagemaker"), api.client("sagemaker-a2i-runtime")
    arn = create_custom_flow(api, "busy")
    a2i.start_human_loop(HumanLoopName="open", FlowDefinitionArn=arn,
                         HumanLoopInput={"InputContent": task_input(api.service)})
    with pytest.raises(sagemaker.exceptions.ResourceInUse):
        sagemaker.delete_flow_definition(FlowDefinitionName="busy")
    a2i.stop_human_loop(HumanLoopName="open")
    sagemaker.delete_flow_definition(FlowDefinitionName="busy")
    assert api.service.workflows.version("busy") is None
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.delete_flow_definition(FlowDefinitionName="busy")


def test_a_human_task_ui_is_kept_with_its_templates_hash(api):
    sagemaker = api.client("sagemaker")
    arn = sagemaker.create_human_task_ui(HumanTaskUiName="moderation-ui",
                                         UiTemplate={"Content": TEMPLATE})["HumanTaskUiArn"]
    described = sagemaker.describe_human_task_ui(HumanTaskUiName="moderation-ui")
    assert described["HumanTaskUiArn"] == arn and described["HumanTaskUiStatus"] == "Active"
    assert described["UiTemplate"]["ContentSha256"] == hashlib.sha256(TEMPLATE.encode()).hexdigest()
    with pytest.raises(sagemaker.exceptions.ResourceInUse):
        sagemaker.create_human_task_ui(HumanTaskUiName="moderation-ui", UiTemplate={"Content": TEMPLATE})
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.describe_human_task_ui(HumanTaskUiName="other")
