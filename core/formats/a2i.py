"""A2I human loop output (`output.json`): write one per loop in A2I's folder layout, and read A2I's own files.

Inside A2I output the keys are camelCase, but some AWS examples use PascalCase, so the reader accepts both at
each level it reads. Confidence is 0..100 in the file and 0..1 inside Loupe.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.domain import Answer, HumanLoop, Label, MediaItem, Prediction, Workflow
from core.errors import LoupeError

MODERATION_SOURCE = "AWS/Rekognition/DetectModerationLabels/Image/V3"
ARN_PREFIX = "arn:aws:sagemaker:local:000000000000:flow-definition/"
A2I_NAME = re.compile(r"[a-z0-9](-*[a-z0-9])*")  # AWS's pattern for human loop and flow definition names
A2I_NAME_MAX = 63


def is_a2i_name(name: str) -> bool:
    return isinstance(name, str) and len(name) <= A2I_NAME_MAX and A2I_NAME.fullmatch(name) is not None


def check_a2i_name(name: str, what: str) -> str:
    """`name` if it is a valid A2I name (AWS's own pattern), else LoupeError in words naming `what` it is."""
    if not is_a2i_name(name):
        shown = name if len(str(name)) <= 80 else str(name)[:80] + "…"
        raise LoupeError(f"{what} {shown!r} is not a valid A2I name: use 1-63 lower-case letters, digits and single "
                         "hyphens, starting and ending with a letter or digit.")
    return name


def check_object_name(name: str) -> str:
    """An S3 object name as A2I output gives it (the reviewed image): no control characters, no `..` segment."""
    text = str(name)
    if (not text or len(text) > 1024 or any(ord(c) < 32 or ord(c) == 127 for c in text)
            or ".." in text.replace("\\", "/").split("/")):
        raise LoupeError(f"The image name {text[:80]!r} is not a usable file name.")
    return text


@dataclass(frozen=True)
class A2IOutput:
    """What an output.json says, in Loupe's terms."""
    flow_name: str
    loop_name: str
    image_name: str  # the S3 object name of the reviewed image
    answers: tuple[Answer, ...]
    labels: tuple[Label, ...]  # the AI service's response
    model_version: str
    activation_results: dict[str, Any]


def output_path(flow_name: str, loop_name: str, created_at: str) -> str:
    """`<flow>/YYYY/MM/DD/hh/mm/ss/<loop>/output.json`, from the loop's creation time (UTC)."""
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00")) if created_at else datetime.now(UTC)
    return f"{flow_name}/{moment.astimezone(UTC):%Y/%m/%d/%H/%M/%S}/{loop_name}/output.json"


def _moderation(labels: list[Label]) -> list[dict[str, Any]]:
    return [{"confidence": round(lb.confidence * 100, 3), "name": lb.name, "parentName": lb.parent_name}
            for lb in labels]


def to_output_json(loop: HumanLoop, workflow: Workflow, answers: list[Answer], media: MediaItem,
                   prediction: Prediction | None, *, bucket: str = "local") -> dict[str, Any]:
    arn = ARN_PREFIX + workflow.name
    labels = [lb for lb in (prediction.labels if prediction else ()) if workflow.task_type != "moderation"
              or lb.category == "moderation"]
    version = prediction.model_version if prediction else ""
    selected = [lb for lb in labels if lb.name in set(loop.reasons)] or labels
    out: dict[str, Any] = {
        "flowDefinitionArn": arn,
        "humanLoopName": loop.loop_id,
        "humanAnswers": [{
            "answerContent": a.content, "acceptanceTime": a.acceptance_time, "submissionTime": a.submission_time,
            "timeSpentInSeconds": a.time_spent_s, "workerId": a.worker_id,
            "workerMetadata": {"identityData": {"identityProviderType": "Oidc", "issuer": "loupe", "sub": a.worker_id}},
        } for a in answers],
        "inputContent": {
            "aiServiceRequest": {"image": {"s3Object": {"bucket": bucket, "name": media.file_name}},
                                 "humanLoopConfig": {"flowDefinitionArn": arn, "humanLoopName": loop.loop_id}},
            "aiServiceResponse": {"moderationLabels": _moderation(labels), "moderationModelVersion": version},
            "humanTaskActivationConditionResults": loop.activation_results,
            "selectedAiServiceResponse": {"moderationLabels": _moderation(selected), "moderationModelVersion": version},
        },
    }
    if workflow.task_type == "transcript_review":  # a custom task type: inputContent is what Loupe sent
        out["inputContent"] = transcript_input_content(loop, media, bucket=bucket)
    if workflow.task_type == "moderation":
        out = {"awsManagedHumanLoopRequestSource": MODERATION_SOURCE, **out}
    return out


def transcript_input_content(loop: HumanLoop, media: MediaItem, *, bucket: str = "local") -> dict[str, Any]:
    """The custom transcript-review task's input: the media to listen to and why it needs a person. Its answers'
    answerContent is `{"transcript": {"version", "text", "wordErrorRateOfModel"}}` (core/transcripts.py)."""
    return {"taskObject": f"s3://{bucket}/{media.file_name}", "mediaKind": media.kind,
            "humanLoopReasons": list(loop.reasons)}


def _get(d: dict[str, Any], camel: str, default: Any = None) -> Any:
    if camel in d:
        return d[camel]
    return d.get(camel[:1].upper() + camel[1:], default)


def _flow_name(arn: str) -> str:
    """The flow definition name of an ARN: all after `flow-definition/` (checked by the caller), or "imported"."""
    if ":flow-definition/" in arn:
        return arn.split(":flow-definition/", 1)[1]
    return arn.rsplit("/", 1)[-1] if "/" in arn else (arn or "imported")


def parse_output_json(doc: dict[str, Any]) -> A2IOutput:
    """Read an A2I output.json (camelCase or PascalCase); LoupeError names what is missing."""
    if not isinstance(doc, dict):
        raise LoupeError("An A2I output.json must hold a JSON object.")
    loop_name = _get(doc, "humanLoopName")
    arn = _get(doc, "flowDefinitionArn", "") or ""
    if not loop_name:
        raise LoupeError("This is not A2I output: it has no humanLoopName.")
    answers_raw = _get(doc, "humanAnswers")
    if not isinstance(answers_raw, list):
        raise LoupeError(f"A2I output for {loop_name} has no humanAnswers list.")
    answers = []
    for i, h in enumerate(answers_raw):
        worker = _get(h, "workerId")
        if not worker:
            raise LoupeError(f"Human answer {i + 1} of {loop_name} has no workerId.")
        answers.append(Answer(loop_id=loop_name, worker_id=str(worker), content=_get(h, "answerContent", {}) or {},
                              acceptance_time=str(_get(h, "acceptanceTime", "") or ""),
                              submission_time=str(_get(h, "submissionTime", "") or ""),
                              time_spent_s=float(_get(h, "timeSpentInSeconds", 0.0) or 0.0)))
    inp = _get(doc, "inputContent", {}) or {}
    request = _get(inp, "aiServiceRequest", {}) or {}
    s3 = _get(_get(request, "image", {}) or {}, "s3Object", {}) or {}
    response = _get(inp, "aiServiceResponse", {}) or {}
    labels = tuple(
        Label(name=str(_get(m, "name")), confidence=float(_get(m, "confidence", 0.0)) / 100.0, category="moderation",
              parent_name=str(_get(m, "parentName", "") or ""), taxonomy_level=2 if _get(m, "parentName") else 1)
        for m in _get(response, "moderationLabels", []) or [])
    return A2IOutput(flow_name=_flow_name(str(arn)), loop_name=str(loop_name),
                     image_name=str(_get(s3, "name", "") or ""), answers=tuple(answers), labels=labels,
                     model_version=str(_get(response, "moderationModelVersion", "") or ""),
                     activation_results=_get(inp, "humanTaskActivationConditionResults", {}) or {})
