"""One function per AWS operation: AWS's request shape in, a call on the core service, AWS's response shape out.

Parameters arrive already parsed and validated against botocore's model (api/protocol.py), and the key that
signed the request is already authorized for the operation (core.api_keys.authorize); its name is the acting
identity recorded as `created_by`. Loupe's errors become each service's own error codes in `ERRORS`.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from api.protocol import ApiError
from core.a2i_flows import FlowDefinition, InUse, name_from_arn
from core.a2i_loops import A2ILoop, LoopConflict, LoopStateError, parse_time
from core.api_keys import ApiKey
from core.detections import ACTIVATION_REASON, Detection, HumanLoopRequest, ImageInput, ImageTooLarge
from core.errors import LoupeError, MediaRejected, NotFound
from core.formats.rekognition import to_detect_labels, to_detect_moderation_labels
from core.media_refs import MediaNotFound, S3Ref

T = TypeVar("T")
Handler = Callable[[Any, ApiKey, dict[str, Any]], dict[str, Any]]

# The first matching Loupe error class gives the AWS error code, per service.
ERRORS: dict[str, list[tuple[type[Exception], str]]] = {
    "sagemaker-a2i-runtime": [(LoopConflict, "ConflictException"), (NotFound, "ResourceNotFoundException"),
                              (LoupeError, "ValidationException")],
    "sagemaker": [(InUse, "ResourceInUse"), (NotFound, "ResourceNotFound"), (LoupeError, "ValidationException")],
    "rekognition": [(ImageTooLarge, "ImageTooLargeException"), (MediaRejected, "InvalidImageFormatException"),
                    (MediaNotFound, "InvalidS3ObjectException"), (NotFound, "ResourceNotFoundException"),
                    (LoupeError, "InvalidParameterException")],
}


def translate(service: str, exc: LoupeError) -> ApiError:
    for cls, code in ERRORS[service]:
        if isinstance(exc, cls):
            return ApiError(code, str(exc))
    return ApiError("ValidationException", str(exc))


# ---- pagination: a token is the sort position of a page's last item, so pages stay right as items are added -----
def paginate(items: Sequence[T], position: Callable[[T], list[str]], max_results: int | None,
             next_token: str | None, *, descending: bool) -> tuple[list[T], str | None]:
    """One page of items sorted by `position` (descending or not), and the token of the next page, if any."""
    start = 0
    if next_token:
        try:
            after = json.loads(base64.urlsafe_b64decode(next_token.encode("ascii")))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            after = None
        if not isinstance(after, list) or not all(isinstance(x, str) for x in after):
            raise ApiError("ValidationException", "NextToken is not one this API gave out.")
        start = next((i for i, item in enumerate(items)
                      if (position(item) < after if descending else position(item) > after)), len(items))
    size = max_results or 100
    page = list(items[start:start + size])
    more = start + size < len(items)
    token = base64.urlsafe_b64encode(json.dumps(position(page[-1])).encode()).decode() if more and page else None
    return page, token


def _flow_name(value: str) -> str:
    return name_from_arn(value, "flow-definition")


def _newest_first(params: dict[str, Any]) -> bool:
    return params.get("SortOrder", "Descending") == "Descending"


def _between(moment: datetime, params: dict[str, Any]) -> bool:
    after, before = params.get("CreationTimeAfter"), params.get("CreationTimeBefore")
    return (after is None or moment > after) and (before is None or moment < before)


# ---- sagemaker-a2i-runtime --------------------------------------------------------------------------------
def start_human_loop(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    try:
        flow = _flow_name(params["FlowDefinitionArn"])
        loop = service.a2i.start(flow, params["HumanLoopName"], params["HumanLoopInput"]["InputContent"],
                                 data_attributes=params.get("DataAttributes"), created_by=key.name)
    except NotFound as exc:  # StartHumanLoop has no ResourceNotFound: A2I calls an unknown flow a bad request
        raise ApiError("ValidationException", str(exc)) from None
    return {"HumanLoopArn": loop.arn}


def _describe(loop: A2ILoop) -> dict[str, Any]:
    out: dict[str, Any] = {"CreationTime": parse_time(loop.created_at), "HumanLoopStatus": loop.status,
                           "HumanLoopName": loop.name, "HumanLoopArn": loop.arn, "FlowDefinitionArn": loop.flow_arn}
    if loop.failure_reason:
        out["FailureReason"] = loop.failure_reason
    if loop.failure_code:
        out["FailureCode"] = loop.failure_code
    if loop.output_uri:
        out["HumanLoopOutput"] = {"OutputS3Uri": loop.output_uri}
    return out


def describe_human_loop(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    return _describe(service.a2i.describe(params["HumanLoopName"]))


def list_human_loops(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    loops = service.a2i.list(_flow_name(params["FlowDefinitionArn"]), created_after=params.get("CreationTimeAfter"),
                             created_before=params.get("CreationTimeBefore"), ascending=not _newest_first(params))
    page, token = paginate(loops, lambda lp: [lp.created_at, lp.name], params.get("MaxResults"),
                           params.get("NextToken"), descending=_newest_first(params))
    summaries = []
    for lp in page:
        summary = {"HumanLoopName": lp.name, "HumanLoopStatus": lp.status, "CreationTime": parse_time(lp.created_at),
                   "FlowDefinitionArn": lp.flow_arn}
        if lp.failure_reason:
            summary["FailureReason"] = lp.failure_reason
        summaries.append(summary)
    return {"HumanLoopSummaries": summaries, **({"NextToken": token} if token else {})}


def stop_human_loop(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    try:
        service.a2i.stop(params["HumanLoopName"])
    except LoopStateError as exc:
        raise ApiError("ValidationException", str(exc)) from None
    return {}


def delete_human_loop(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    service.a2i.delete(params["HumanLoopName"])
    return {}


# ---- sagemaker: flow definitions and human task UIs --------------------------------------------------------
def create_flow_definition(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    return {"FlowDefinitionArn": service.flow_definitions.create(params, created_by=key.name).arn}


def _flow(flow: FlowDefinition) -> dict[str, Any]:
    request = flow.request
    out = {"FlowDefinitionArn": flow.arn, "FlowDefinitionName": flow.name, "FlowDefinitionStatus": "Active",
           "CreationTime": parse_time(flow.created_at), "OutputConfig": request["OutputConfig"],
           "RoleArn": request["RoleArn"], "HumanLoopConfig": request["HumanLoopConfig"]}
    for optional in ("HumanLoopRequestSource", "HumanLoopActivationConfig"):
        if optional in request:
            out[optional] = request[optional]
    return out


def describe_flow_definition(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    return _flow(service.flow_definitions.get(params["FlowDefinitionName"]))


def list_flow_definitions(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    flows = [f for f in service.flow_definitions.list() if _between(parse_time(f.created_at), params)]
    flows.sort(key=lambda f: (f.created_at, f.name), reverse=_newest_first(params))
    page, token = paginate(flows, lambda f: [f.created_at, f.name], params.get("MaxResults"), params.get("NextToken"),
                           descending=_newest_first(params))
    return {"FlowDefinitionSummaries": [{"FlowDefinitionName": f.name, "FlowDefinitionArn": f.arn,
                                         "FlowDefinitionStatus": "Active", "CreationTime": parse_time(f.created_at)}
                                        for f in page], **({"NextToken": token} if token else {})}


def delete_flow_definition(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    service.flow_definitions.delete(params["FlowDefinitionName"])
    return {}


def create_human_task_ui(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    ui = service.flow_definitions.create_ui(params["HumanTaskUiName"], params["UiTemplate"]["Content"],
                                            tags=params.get("Tags"), created_by=key.name)
    return {"HumanTaskUiArn": ui.arn}


def describe_human_task_ui(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    ui = service.flow_definitions.get_ui(params["HumanTaskUiName"])
    # The template is kept, not served: the API serves no files. Reviewers use Loupe's own task pages.
    return {"HumanTaskUiArn": ui.arn, "HumanTaskUiName": ui.name, "HumanTaskUiStatus": "Active",
            "CreationTime": parse_time(ui.created_at),
            "UiTemplate": {"Url": f"loupe:human-task-ui/{ui.name}", "ContentSha256": ui.content_sha256}}


# ---- rekognition ---------------------------------------------------------------------------------------------
def _image(params: dict[str, Any]) -> ImageInput:
    image = params["Image"]
    if "Bytes" in image:
        return ImageInput(data=image["Bytes"])
    if "S3Object" in image:
        s3 = image["S3Object"]
        return ImageInput(s3=S3Ref(s3.get("Bucket", ""), s3.get("Name", "")))
    raise ApiError("InvalidParameterException", "Image needs Bytes or an S3Object.")


def detect_labels(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    min_pct = params.get("MinConfidence", 55.0)
    detection = service.detections.detect(_image(params), created_by=key.name)
    out = to_detect_labels(detection.labels("general", min_pct / 100.0), detection.prediction.model_version)
    if "MaxLabels" in params:
        out["Labels"] = out["Labels"][:params["MaxLabels"]]
    return out


def detect_moderation_labels(service, key: ApiKey, params: dict[str, Any]) -> dict[str, Any]:
    min_pct = params.get("MinConfidence", 50.0)
    config = params.get("HumanLoopConfig")
    request = None
    if config:
        request = HumanLoopRequest(_flow_name(config["FlowDefinitionArn"]), config["HumanLoopName"],
                                   config.get("DataAttributes") or {})
    try:
        detection = service.detections.detect(_image(params), min_confidence=min_pct / 100.0, human_loop=request,
                                              created_by=key.name)
    except LoopConflict as exc:
        raise ApiError("InvalidParameterException", str(exc)) from None
    out = to_detect_moderation_labels(detection.labels("moderation", min_pct / 100.0),
                                      detection.prediction.model_version)
    if config:
        out["HumanLoopActivationOutput"] = activation_output(detection)
    return out


def activation_output(detection: Detection) -> dict[str, Any]:
    """Rekognition's HumanLoopActivationOutput: the loop's ARN and why, only when a loop started."""
    results = json.dumps(detection.evaluation.results if detection.evaluation else {"Conditions": []},
                         separators=(",", ":"))
    out: dict[str, Any] = {"HumanLoopActivationConditionsEvaluationResults": results}
    if detection.loop is not None:
        out = {"HumanLoopArn": detection.loop.arn, "HumanLoopActivationReasons": [ACTIVATION_REASON], **out}
    return out


HANDLERS: dict[tuple[str, str], Handler] = {
    ("sagemaker-a2i-runtime", "StartHumanLoop"): start_human_loop,
    ("sagemaker-a2i-runtime", "DescribeHumanLoop"): describe_human_loop,
    ("sagemaker-a2i-runtime", "ListHumanLoops"): list_human_loops,
    ("sagemaker-a2i-runtime", "StopHumanLoop"): stop_human_loop,
    ("sagemaker-a2i-runtime", "DeleteHumanLoop"): delete_human_loop,
    ("sagemaker", "CreateFlowDefinition"): create_flow_definition,
    ("sagemaker", "DescribeFlowDefinition"): describe_flow_definition,
    ("sagemaker", "ListFlowDefinitions"): list_flow_definitions,
    ("sagemaker", "DeleteFlowDefinition"): delete_flow_definition,
    ("sagemaker", "CreateHumanTaskUi"): create_human_task_ui,
    ("sagemaker", "DescribeHumanTaskUi"): describe_human_task_ui,
    ("rekognition", "DetectLabels"): detect_labels,
    ("rekognition", "DetectModerationLabels"): detect_moderation_labels,
}
