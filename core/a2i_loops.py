"""A2I's runtime on Loupe's human loops: start, describe, list, stop and delete loops by name, as A2I does.

A loop started here is an ordinary Loupe `HumanLoop` (its id is the A2I HumanLoopName), so it is on the task
pages at once. What only A2I has (the input content as sent, DataAttributes, who started it, the output URI)
is kept beside it in an "a2i_loop" record. When a loop finishes, `on_finished` writes A2I's output.json for the
loops started here, and every finished loop, whichever face started it, is announced to the webhooks.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from core.a2i_flows import FlowDefinitions, arn
from core.a2i_outputs import A2IOutputs
from core.answers import Answers
from core.catalog import Catalog
from core.conditions import labels_from_response
from core.domain import HumanLoop, MediaItem, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError
from core.formats.a2i import MODERATION_SOURCE, to_output_json
from core.loops import KIND as LOOP_KIND
from core.loops import Loops
from core.media_refs import MediaRefs, reference_in
from core.predictions import Predictions
from core.review import CLAIM_KIND
from core.stores.base import RecordStore, update_record
from core.webhooks import FINAL_STATUSES, Webhooks, status_event
from core.workflows import Workflows

log = logging.getLogger(__name__)

KIND = "a2i_loop"
MAX_INPUT_CHARS = 3_145_728  # A2I's InputContent limit


class LoopConflict(LoupeError):
    """A loop with that name exists already (A2I's ConflictException)."""


class LoopStateError(LoupeError):
    """The loop is not in a state that allows this (stopping a completed loop, deleting one in progress)."""


@dataclass(frozen=True)
class A2ILoop:
    """A human loop as DescribeHumanLoop tells it."""
    loop: HumanLoop
    flow_arn: str
    created_by: str = ""
    input_content: str = ""
    data_attributes: dict[str, Any] = field(default_factory=dict)
    output_uri: str = ""
    failure_reason: str = ""
    failure_code: str = ""

    @property
    def name(self) -> str:
        return self.loop.loop_id

    @property
    def arn(self) -> str:
        return arn("human-loop", self.loop.loop_id)

    @property
    def status(self) -> str:
        return self.loop.status

    @property
    def created_at(self) -> str:
        return self.loop.created_at


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class A2ILoops:
    def __init__(self, records: RecordStore, loops: Loops, workflows: Workflows, flows: FlowDefinitions,
                 catalog: Catalog, predictions: Predictions, answers: Answers, media: MediaRefs,
                 outputs: A2IOutputs, webhooks: Webhooks | None = None):
        self.records = records
        self.loops = loops
        self.workflows = workflows
        self.flows = flows
        self.catalog = catalog
        self.predictions = predictions
        self.answers = answers
        self.media = media
        self.outputs = outputs
        self.webhooks = webhooks

    # ---- starting ----------------------------------------------------------------------------------
    def start(self, flow_name: str, name: str, input_content: str, *, data_attributes: dict[str, Any] | None = None,
              created_by: str = "") -> A2ILoop:
        """StartHumanLoop: the InputContent names the media (an S3 object of Loupe's, see core.media_refs)."""
        wf = self.workflows.get(flow_name)
        if len(input_content) > MAX_INPUT_CHARS:
            raise LoupeError(f"InputContent is {len(input_content):,} characters; A2I allows {MAX_INPUT_CHARS:,}.")
        try:
            content = json.loads(input_content)
        except json.JSONDecodeError as exc:
            raise LoupeError(f"InputContent is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
        if not isinstance(content, dict):
            raise LoupeError("InputContent must be a JSON object.")
        ref = reference_in(content)
        if ref is None:
            raise LoupeError('InputContent must name the media to review: "taskObject": "s3://<bucket>/<key>" '
                             '(or Rekognition\'s aiServiceRequest.image.s3Object).')
        item = self.media.resolve(ref, created_by=created_by)
        reasons: tuple[str, ...] = ()
        if wf.task_type == "moderation":
            selected = content.get("selectedAiServiceResponse") or content.get("aiServiceResponse")
            if isinstance(selected, dict):
                try:
                    reasons = tuple(lb.name for lb in labels_from_response(selected))
                except LoupeError:
                    reasons = ()
        results = content.get("humanTaskActivationConditionResults")
        return self._create(wf.name, name, item, reasons=reasons,
                            activation_results=results if isinstance(results, dict) else {},
                            task_count=wf.task_count, input_content=input_content,
                            data_attributes=data_attributes or {}, created_by=created_by)

    def start_for_detection(self, flow_name: str, name: str, item: MediaItem, *, reasons: tuple[str, ...],
                            activation_results: dict[str, Any], input_content: dict[str, Any],
                            data_attributes: dict[str, Any] | None = None, created_by: str = "") -> A2ILoop:
        """The loop Rekognition starts when the activation conditions say so (core.detections)."""
        wf = self.workflows.get(flow_name)
        return self._create(wf.name, name, item, reasons=reasons, activation_results=activation_results,
                            task_count=wf.task_count, input_content=json.dumps(input_content),
                            data_attributes=data_attributes or {}, created_by=created_by)

    def _create(self, flow_name: str, name: str, item: MediaItem, *, reasons: tuple[str, ...],
                activation_results: dict[str, Any], task_count: int, input_content: str,
                data_attributes: dict[str, Any], created_by: str) -> A2ILoop:
        loop = HumanLoop(name, item.media_id, flow_name, reasons=reasons, activation_results=activation_results,
                         task_count=task_count, created_at=utc_now())
        if not self.loops.create(loop):  # the loop record is the one place a name is taken
            raise LoopConflict(f"A human loop named {name!r} already exists.")
        body = {"name": name, "flow_name": flow_name, "created_by": created_by, "input_content": input_content,
                "data_attributes": data_attributes, "output_uri": "", "failure_reason": "", "failure_code": ""}
        try:
            self.records.create(KIND, name, body, parent=flow_name)
        except AlreadyExists:  # left behind by a loop deleted on another face
            rec = self.records.get(KIND, name)
            if rec is None:  # and gone again since
                self.records.create(KIND, name, body, parent=flow_name)
            else:
                self.records.put(KIND, name, body, expected_version=rec.version, parent=flow_name)
        try:
            self.catalog.set_status(item.media_id, "in_review")
        except LoupeError as exc:
            log.warning("loop %s started, but media %s kept its status: %s", name, item.media_id[:12], exc)
        return self._view(loop, body)

    # ---- reading -----------------------------------------------------------------------------------
    def describe(self, name: str) -> A2ILoop:
        loop = self.loops.get(name)  # NotFound
        rec = self.records.get(KIND, name)
        view = self._view(loop, rec.body if rec else {})
        if view.status == "Completed" and rec is not None and not view.output_uri:
            view = self._write_output(view) or view  # its first write failed (S3 down): try again now
        return view

    def list(self, flow_name: str, *, created_after: datetime | None = None, created_before: datetime | None = None,
             ascending: bool = False) -> list[A2ILoop]:
        """The flow definition's loops, newest first unless ascending, filtered by creation time."""
        self.workflows.get(flow_name)  # NotFound for an unknown flow definition
        extra = {r.key: r.body for r in self.records.query(KIND, parent=flow_name)}
        out = []
        for rec in self.records.query(LOOP_KIND, parent=flow_name):
            loop = from_dict(HumanLoop, rec.body)
            created = parse_time(loop.created_at) if loop.created_at else None
            if created_after and (created is None or created <= created_after):
                continue
            if created_before and (created is None or created >= created_before):
                continue
            out.append(self._view(loop, extra.get(loop.loop_id, {})))
        out.sort(key=lambda v: (v.created_at, v.name), reverse=not ascending)
        return out

    def _view(self, loop: HumanLoop, body: dict[str, Any]) -> A2ILoop:
        return A2ILoop(loop, arn("flow-definition", loop.workflow), created_by=body.get("created_by", ""),
                       input_content=body.get("input_content", ""), data_attributes=body.get("data_attributes", {}),
                       output_uri=body.get("output_uri", ""), failure_reason=body.get("failure_reason", ""),
                       failure_code=body.get("failure_code", ""))

    # ---- stopping and deleting ---------------------------------------------------------------------
    def stop(self, name: str) -> A2ILoop:
        """StopHumanLoop: an InProgress loop becomes Stopped and leaves the task pages; Stopped again is a no-op."""
        loop = self.loops.get(name)
        if loop.status == "Stopped":
            return self.describe(name)
        if loop.status != "InProgress":
            raise LoopStateError(f"Human loop {name!r} is {loop.status}; only a loop in progress can be stopped.")
        self.loops.set_status(name, "Stopped")
        view = self.describe(name)
        self.on_finished(view.loop)
        return view

    def delete(self, name: str) -> None:
        """DeleteHumanLoop: a finished loop's records go (its answers stay: they are the reviewers' ground truth)."""
        loop = self.loops.get(name)
        if loop.status == "InProgress":
            raise LoopStateError(f"Human loop {name!r} is in progress; stop it before deleting it.")
        for rec in list(self.records.query(CLAIM_KIND, parent=name)):
            self.records.delete(CLAIM_KIND, rec.key)
        if self.records.get(KIND, name) is not None:
            self.records.delete(KIND, name)
        self.loops.delete(name)

    # ---- finishing ---------------------------------------------------------------------------------
    def on_finished(self, loop: HumanLoop) -> None:
        """Called when a loop becomes Completed, Stopped or Failed (by any face): output.json, then the webhooks."""
        if loop.status not in FINAL_STATUSES:
            return
        rec = self.records.get(KIND, loop.loop_id)
        view = self._view(loop, rec.body if rec else {})
        if loop.status == "Completed" and rec is not None:
            view = self._write_output(view) or view
        if self.webhooks is not None and self.webhooks.settings.is_enabled:
            self.webhooks.notify(status_event(
                loop_name=view.name, status=view.status, loop_arn=view.arn, flow_arn=view.flow_arn,
                created_at=view.created_at, output_uri=view.output_uri,
                failure_code=view.failure_code or None, failure_reason=view.failure_reason or None))

    def output_document(self, view: A2ILoop) -> dict[str, Any]:
        """A2I's output.json for a loop started here: humanAnswers, and the inputContent as it was sent."""
        wf = self.workflows.get(view.loop.workflow)
        media = self.catalog.get(view.loop.media_id)
        doc = to_output_json(view.loop, wf, self.answers.for_loop(view.name), media,
                             self.predictions.get(media.media_id))
        doc["flowDefinitionArn"] = view.flow_arn
        try:
            sent = json.loads(view.input_content) if view.input_content else None
        except json.JSONDecodeError:
            sent = None
        if isinstance(sent, dict):
            doc["inputContent"] = sent
        if wf.task_type == "moderation":
            doc = {"awsManagedHumanLoopRequestSource": MODERATION_SOURCE, **doc}
        return doc

    def _write_output(self, view: A2ILoop) -> A2ILoop | None:
        try:
            flow = self.flows.get(view.loop.workflow)
            uri = self.outputs.write(flow.output_path, flow.name, view.name, view.created_at,
                                     self.output_document(view))
        except Exception as exc:  # S3, permissions, a deleted flow: the loop stays Completed; describe retries
            from core.aws import explain_aws_error

            log.error("output.json of human loop %s not written: %s", view.name,
                      explain_aws_error(exc, what="the A2I output bucket") or exc)
            return None
        update_record(self.records, KIND, view.name, lambda b: {**b, "output_uri": uri}, what="A2I human loop")
        return replace(view, output_uri=uri)
