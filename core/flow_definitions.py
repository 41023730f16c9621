"""A workflow as an A2I `CreateFlowDefinition` request, so a Loupe setting can be deployed to SageMaker as is."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.conditions import dump_conditions, parse_conditions, validate_conditions
from core.domain import Workflow
from core.errors import LoupeError
from core.formats.a2i import is_a2i_name
from core.routing_policy import RoutingPolicy
from core.task_types import REGISTRY, task_type_of
from core.workflows import validate_workflow

_KEYWORD = re.compile(r"[A-Za-z0-9]+( [A-Za-z0-9]+)*")  # SageMaker's TaskKeywords pattern, 1-30 characters


@dataclass(frozen=True)
class AwsTargets:
    """The AWS resources a flow definition names; the defaults are placeholders to replace before deploying."""
    role_arn: str = "arn:aws:iam::111122223333:role/LoupeA2IExecution"
    workteam_arn: str = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/loupe-reviewers"
    human_task_ui_arn: str = "arn:aws:sagemaker:us-east-1:111122223333:human-task-ui/loupe-moderation"
    s3_output_path: str = "s3://loupe-a2i-output/flow-definitions/"


PLACEHOLDER_ACCOUNT = "111122223333"  # AWS's documentation account id: no real resource has it
TARGET_FIELDS = {  # field -> (what it is, the shape SageMaker accepts)
    "role_arn": ("Execution role ARN", re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")),
    "workteam_arn": ("Work team ARN",
                     re.compile(r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:workteam/[\w.-]+/[\w.-]+")),
    "human_task_ui_arn": ("Human task UI ARN",
                          re.compile(r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:human-task-ui/[\w.-]+")),
    "s3_output_path": ("S3 output path", re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?")),
}


def target_problems(targets: AwsTargets) -> list[str]:
    """What is wrong with the AWS resources a flow definition names, in words: a value of the wrong shape, or one
    still holding the placeholder account or bucket. Empty when it can be deployed as is."""
    problems = []
    defaults = AwsTargets()
    for field, (what, shape) in TARGET_FIELDS.items():
        value = getattr(targets, field).strip()
        if not shape.fullmatch(value):
            problems.append(f"{what} {value!r} is not of the form SageMaker takes.")
        elif value == getattr(defaults, field) or PLACEHOLDER_ACCOUNT in value:
            problems.append(f"{what} is still the placeholder; replace it with your own before deploying.")
    return problems


def flow_definition_name(name: str) -> str:
    """A2I flow definition names are lower-case letters, digits and hyphens."""
    candidate = name.lower()
    if not is_a2i_name(candidate):
        raise LoupeError(f"{name!r} can't be an A2I flow definition name: use 1-63 letters, digits and single "
                         "hyphens, starting and ending with a letter or digit.")
    return candidate


def to_create_flow_definition(wf: Workflow, targets: AwsTargets = AwsTargets()) -> dict[str, Any]:
    """The request body for SageMaker's CreateFlowDefinition.

    Moderation workflows use Rekognition's built-in task type with the activation conditions; the other task
    types are custom ones, for which A2I takes no activation conditions (the caller starts each loop).
    """
    config: dict[str, Any] = {
        "WorkteamArn": targets.workteam_arn,
        "HumanTaskUiArn": targets.human_task_ui_arn,
        "TaskTitle": (wf.title or f"Review {wf.name}")[:128],
        "TaskDescription": (wf.description or wf.instructions or "Review the labels the model found.")[:255],
        "TaskCount": wf.task_count,
        "TaskTimeLimitInSeconds": wf.time_limit_s,
    }
    keywords = [c for c in wf.categories if len(c) <= 30 and _KEYWORD.fullmatch(c)][:5]
    if keywords:
        config["TaskKeywords"] = keywords
    request: dict[str, Any] = {
        "FlowDefinitionName": flow_definition_name(wf.name),
        "HumanLoopConfig": config,
        "OutputConfig": {"S3OutputPath": targets.s3_output_path},
        "RoleArn": targets.role_arn,
    }
    managed_source = task_type_of(wf.task_type).aws_managed_source
    if managed_source:
        request["HumanLoopRequestSource"] = {"AwsManagedHumanLoopRequestSource": managed_source}
        if wf.routing.conditions:
            validate_conditions(wf.routing.conditions)
            request["HumanLoopActivationConfig"] = {"HumanLoopActivationConditionsConfig": {
                "HumanLoopActivationConditions": dump_conditions(wf.routing.conditions)}}
    return request


TASK_TYPE_TAG = "loupe:task-type"  # picks the Loupe task type of a custom flow definition (default label_review)


def workflow_from_request(request: dict[str, Any]) -> Workflow:
    """The workflow a CreateFlowDefinition request describes (the mirror of `to_create_flow_definition`).

    A Rekognition moderation source makes a moderation workflow with the request's activation conditions;
    no source makes a custom task type, which A2I starts only through StartHumanLoop, so it takes no conditions.
    """
    name = str(request.get("FlowDefinitionName", ""))
    if not is_a2i_name(name):
        raise LoupeError(f"{name!r} can't be a flow definition name: use 1-63 lower-case letters, digits and "
                         "single hyphens, starting and ending with a letter or digit.")
    source = (request.get("HumanLoopRequestSource") or {}).get("AwsManagedHumanLoopRequestSource")
    activation = request.get("HumanLoopActivationConfig")
    tags = {t.get("Key"): t.get("Value") for t in request.get("Tags") or ()}
    managed = {spec.aws_managed_source: spec.name for spec in REGISTRY.values() if spec.aws_managed_source}
    if source in managed:
        task_type = managed[source]
    elif source is None:
        if activation:
            raise LoupeError("Activation conditions need a HumanLoopRequestSource: custom task types start their "
                             "human loops with StartHumanLoop.")
        task_type = tags.get(TASK_TYPE_TAG) or "label_review"
    else:
        raise LoupeError(f"Loupe reviews images and speech; the request source {source!r} is not supported "
                         f"(use {', '.join(managed)}, or none for a custom task type).")
    conditions: dict[str, Any] = {}
    if activation:
        text = activation.get("HumanLoopActivationConditionsConfig", {}).get("HumanLoopActivationConditions", "")
        conditions = parse_conditions(text)
    config = request.get("HumanLoopConfig") or {}
    wf = Workflow(name=name, task_type=task_type, routing=RoutingPolicy(conditions=conditions),
                  task_count=int(config.get("TaskCount", 1)), title=str(config.get("TaskTitle", "")),
                  description=str(config.get("TaskDescription", "")),
                  time_limit_s=int(config.get("TaskTimeLimitInSeconds", 3600)))
    validate_workflow(wf)
    return wf
