"""Workflows (A2I flow definitions), saved by name and edited with version checks."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from core import changes
from core.access import OPEN, Access, Actor
from core.domain import Workflow, as_dict, from_dict, utc_now
from core.errors import LoupeError, NotFound
from core.formats.a2i import is_a2i_name
from core.routing_policy import RoutingPolicy
from core.stores.base import RecordStore
from core.task_types import REGISTRY

KIND = "workflow"


def validate_workflow(wf: Workflow, *, is_new: bool = True) -> None:
    """Raise LoupeError naming the first problem with a workflow's settings. A new workflow's name follows A2I's
    flow definition pattern, since it names folders of A2I exports; one saved before that rule keeps its name."""
    if is_new and not is_a2i_name(wf.name):
        raise LoupeError("A workflow name is 1-63 lower-case letters, digits and single hyphens, starting and ending "
                         "with a letter or digit (A2I's flow definition names), e.g. moderation-pass.")
    if not wf.name or len(wf.name) > 63 or not all(c.isascii() and (c.isalnum() or c == "-") for c in wf.name):
        raise LoupeError("A workflow name is 1-63 letters, digits or hyphens (as A2I's flow definition names are).")
    if wf.task_type not in REGISTRY:
        raise LoupeError(f"Task type must be one of {', '.join(REGISTRY)}, not {wf.task_type!r}.")
    if not 1 <= wf.task_count <= 3:
        raise LoupeError("Reviewers per item (TaskCount) must be 1, 2 or 3.")
    if wf.time_limit_s < 30:
        raise LoupeError("The task time limit must be at least 30 seconds.")
    if not 0 <= wf.audit_percent <= 100:
        raise LoupeError("The audit sample must be between 0 and 100 percent.")
    for entry in wf.team:
        if not entry.strip() or len(entry) > 254:
            raise LoupeError("A work team lists member emails or group names, none of them empty.")


def workflow_body(wf: Workflow) -> dict[str, Any]:
    """A workflow as stored: its fields, with the routing policy in its JSON form."""
    return {**as_dict(wf), "routing": wf.routing.as_json()}


def workflow_from_body(body: dict[str, Any]) -> Workflow:
    """A stored workflow, in today's shape or the one before `routing` (see RoutingPolicy.from_workflow_body)."""
    wf = from_dict(Workflow, {k: v for k, v in body.items() if k != "routing"})
    return replace(wf, routing=RoutingPolicy.from_workflow_body(body))


class Workflows:
    def __init__(self, records: RecordStore, access: Access = OPEN):
        self.records = records
        self.access = access

    def get(self, name: str) -> Workflow:
        rec = self.records.get(KIND, name)
        if rec is None:
            raise NotFound(KIND, name)
        return workflow_from_body(rec.body)

    def version(self, name: str) -> int | None:
        rec = self.records.get(KIND, name)
        return rec.version if rec else None

    def list(self) -> list[Workflow]:
        return [workflow_from_body(r.body) for r in self.records.query(KIND)]

    def save(self, wf: Workflow, *, expected_version: int | None = None, actor: Actor | None = None) -> int:
        """Create (expected_version None) or update a workflow (its thresholds, conditions and work team included);
        returns the new version. Admins only."""
        current = self.access.require(actor, "workflows")
        validate_workflow(wf, is_new=expected_version is None)
        if expected_version is None:
            version = self.records.create(KIND, wf.name,
                                          workflow_body(replace(wf, created_at=wf.created_at or utc_now()))).version
        else:
            version = self.records.put(KIND, wf.name, workflow_body(wf), expected_version=expected_version).version
        changes.stamp(self.records, changes.WORKFLOWS)
        self.access.record(current, "workflow", wf.name, before_version=expected_version, after_version=version,
                           detail=f"team={','.join(wf.team) or 'every reviewer'}")
        return version

    def delete(self, name: str, *, expected_version: int, actor: Actor | None = None) -> None:
        """Delete a workflow (its loops and answers stay, for the record). Admins only."""
        current = self.access.require(actor, "deletes")
        self.records.delete(KIND, name, expected_version=expected_version)
        changes.stamp(self.records, changes.WORKFLOWS)
        self.access.record(current, "delete", f"workflow {name}", before_version=expected_version)
