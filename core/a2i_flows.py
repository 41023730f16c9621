"""A2I flow definitions and human task UIs kept in the store, each flow definition being a Loupe workflow.

Creating a flow definition saves the workflow it describes (task type, activation conditions, reviewers per
item, title, time limit) with the Workflows service, so the Thresholds and task pages see it at once; the
fields Loupe does not act on (RoleArn, WorkteamArn, HumanTaskUiArn, OutputConfig, tags) are kept beside it in a
"flow_definition" record. A workflow made on the Thresholds page is a flow definition too: describing it
writes the request `core.flow_definitions.to_create_flow_definition` gives, with the project's output path.
"""
from __future__ import annotations

import builtins
import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from core.domain import utc_now
from core.errors import AlreadyExists, LoupeError, NotFound
from core.flow_definitions import AwsTargets, to_create_flow_definition, workflow_from_request
from core.loops import KIND as LOOP_KIND
from core.stores.base import RecordStore
from core.workflows import Workflows

FLOW_KIND = "flow_definition"
UI_KIND = "human_task_ui"
ARN_BASE = "arn:aws:sagemaker:local:000000000000"
_NAME = re.compile(r"[a-z0-9](-*[a-z0-9]){0,62}")


class InUse(LoupeError):
    """The resource can't be changed now (a flow definition with open human loops, a name taken)."""


def arn(kind: str, name: str) -> str:
    """`kind` is A2I's resource type: flow-definition, human-loop or human-task-ui."""
    return f"{ARN_BASE}:{kind}/{name}"


def name_from_arn(value: str, kind: str) -> str:
    """The resource name of an ARN of this kind (any region or account); LoupeError if it is not one."""
    marker = f":{kind}/"
    if not value.startswith("arn:") or marker not in value:
        raise LoupeError(f"{value!r} is not a {kind} ARN.")
    name = value.rsplit(marker, 1)[1]
    if not name:
        raise LoupeError(f"{value!r} names no {kind}.")
    return name


@dataclass(frozen=True)
class FlowDefinition:
    """What DescribeFlowDefinition says: the workflow as a CreateFlowDefinition request, and when it was made."""
    name: str
    request: dict[str, Any]
    created_at: str
    created_by: str = ""

    @property
    def arn(self) -> str:
        return arn("flow-definition", self.name)

    @property
    def output_path(self) -> str:
        return str(self.request.get("OutputConfig", {}).get("S3OutputPath", ""))


@dataclass(frozen=True)
class HumanTaskUi:
    name: str
    template: str
    created_at: str
    created_by: str = ""
    tags: tuple[dict[str, str], ...] = field(default=())

    @property
    def arn(self) -> str:
        return arn("human-task-ui", self.name)

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()


class FlowDefinitions:
    def __init__(self, records: RecordStore, workflows: Workflows, default_output_path: str):
        self.records = records
        self.workflows = workflows
        self.default_output_path = default_output_path

    # ---- flow definitions ---------------------------------------------------------------------------
    def create(self, request: dict[str, Any], *, created_by: str = "") -> FlowDefinition:
        """Save the workflow a CreateFlowDefinition request describes. InUse if the name is taken."""
        wf = workflow_from_request(request)
        now = utc_now()
        try:
            self.workflows.save(replace(wf, created_at=now))  # create-only: the name is taken at most once
        except AlreadyExists:
            raise InUse(f"A flow definition (workflow) named {wf.name!r} already exists.") from None
        body = {"name": wf.name, "request": request, "created_at": now, "created_by": created_by}
        rec = self.records.get(FLOW_KIND, wf.name)
        if rec is None:
            self.records.create(FLOW_KIND, wf.name, body)
        else:  # left by a workflow deleted on another face: this request replaces it
            self.records.put(FLOW_KIND, wf.name, body, expected_version=rec.version)
        return self.get(wf.name)

    def get(self, name: str) -> FlowDefinition:
        """The flow definition of a workflow, whether it was made over the API or on the Thresholds page."""
        wf = self.workflows.get(name)  # NotFound if no such workflow
        if not _NAME.fullmatch(wf.name):
            raise NotFound("flow definition", name)
        rec = self.records.get(FLOW_KIND, name)
        stored = rec.body if rec else {}
        sent = stored.get("request", {})
        targets = AwsTargets(**{k: v for k, v in {
            "role_arn": sent.get("RoleArn"),
            "workteam_arn": sent.get("HumanLoopConfig", {}).get("WorkteamArn"),
            "human_task_ui_arn": sent.get("HumanLoopConfig", {}).get("HumanTaskUiArn"),
            "s3_output_path": sent.get("OutputConfig", {}).get("S3OutputPath") or self.default_output_path,
        }.items() if v})
        request = to_create_flow_definition(wf, targets)
        for key in ("OutputConfig", "Tags"):
            if key in sent:
                request[key] = sent[key]
        kept = {k: v for k, v in sent.get("HumanLoopConfig", {}).items()
                if k in ("TaskKeywords", "TaskAvailabilityLifetimeInSeconds", "PublicWorkforceTaskPrice")}
        request["HumanLoopConfig"] = {**request["HumanLoopConfig"], **kept}
        if wf.title:
            request["HumanLoopConfig"]["TaskTitle"] = wf.title
        return FlowDefinition(wf.name, request, stored.get("created_at") or wf.created_at or utc_now(),
                              stored.get("created_by", ""))

    def list(self) -> list[FlowDefinition]:
        return [self.get(wf.name) for wf in self.workflows.list() if _NAME.fullmatch(wf.name)]

    def delete(self, name: str) -> None:
        """Delete the flow definition and its workflow; InUse while it has human loops in progress."""
        self.get(name)
        if any(r.body.get("status") == "InProgress" for r in self.records.query(LOOP_KIND, parent=name)):
            raise InUse(f"Flow definition {name!r} has human loops in progress; stop them first.")
        version = self.workflows.version(name)
        if version is not None:
            self.workflows.delete(name, expected_version=version)  # admins only; audited
        if self.records.get(FLOW_KIND, name) is not None:
            self.records.delete(FLOW_KIND, name)

    # ---- human task UIs -----------------------------------------------------------------------------
    def create_ui(self, name: str, template: str, *, tags: builtins.list[dict[str, str]] | None = None,
                  created_by: str = "") -> HumanTaskUi:
        """Keep a worker task template. Loupe shows its own task pages; the template is stored as sent."""
        ui = HumanTaskUi(name, template, utc_now(), created_by, tuple(tags or ()))
        try:
            self.records.create(UI_KIND, name, {"name": name, "template": template, "created_at": ui.created_at,
                                                "created_by": created_by, "tags": list(ui.tags)})
        except AlreadyExists:
            raise InUse(f"A human task UI named {name!r} already exists.") from None
        return ui

    def get_ui(self, name: str) -> HumanTaskUi:
        rec = self.records.get(UI_KIND, name)
        if rec is None:
            raise NotFound("human task UI", name)
        b = rec.body
        return HumanTaskUi(b["name"], b["template"], b["created_at"], b.get("created_by", ""), tuple(b.get("tags", ())))
