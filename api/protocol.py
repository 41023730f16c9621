"""AWS's wire protocols, server side, driven by botocore's service models (the contract boto3 itself uses).

- Which operation: the JSON protocol names it in `X-Amz-Target` (`<targetPrefix>.<Operation>`); rest-json by
  method and path, matched against each operation's `requestUri`.
- Parameters: the body (and for rest-json the path, query string and headers, per each member's `location`)
  are read into the Python values boto3 itself would have been given (bytes for blobs, datetimes for
  timestamps), then checked with botocore's own `ParamValidator` (required members, types, minimums) and with
  the model's maximums, patterns and enums, which botocore leaves to the service.
- Responses: JSON, timestamps as epoch seconds (the protocols' default), blobs base64.
- Errors: `{"__type": code, "message": ...}` with `x-amzn-ErrorType`, at the HTTP status the model gives the
  error shape, so boto3 raises a ClientError with that code.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

SERVICES = ("sagemaker-a2i-runtime", "sagemaker", "rekognition")
VALIDATION_CODES = {"rekognition": "InvalidParameterException"}  # what each service calls a bad request
DEFAULT_STATUS = {"ResourceNotFoundException": 400, "ConflictException": 409, "ThrottlingException": 400,
                  "InternalServerException": 500, "InternalServerError": 500, "AccessDeniedException": 400,
                  "MissingAuthenticationTokenException": 403, "UnrecognizedClientException": 403,
                  "InvalidSignatureException": 403, "IncompleteSignatureException": 403,
                  "UnknownOperationException": 400, "SerializationException": 400,
                  "RequestEntityTooLargeException": 413}


class ApiError(Exception):
    """An AWS error response: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.operation: Operation | None = None  # set once known: the status then comes from its model

    def http_status(self) -> int:
        if self.status is not None:
            return self.status
        return self.operation.status_of(self.code) if self.operation else DEFAULT_STATUS.get(self.code, 400)


@dataclass(frozen=True)
class Operation:
    service: str  # botocore's service name, e.g. "sagemaker-a2i-runtime"
    model: OperationModel

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def protocol(self) -> str:
        return self.model.metadata["protocol"]

    @property
    def signing_name(self) -> str:
        return self.model.metadata.get("signingName") or self.model.metadata["endpointPrefix"]

    def validation_code(self) -> str:
        return VALIDATION_CODES.get(self.service, "ValidationException")

    def status_of(self, code: str) -> int:
        """The HTTP status of an error code, as this operation's model declares it (else AWS's usual one)."""
        for shape in self.model.error_shapes:
            if shape.name == code:
                return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        return DEFAULT_STATUS.get(code, 400)


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    literal_chars: int
    operation: Operation


class Operations:
    """Every operation of the served services, looked up by X-Amz-Target or by method and path."""

    def __init__(self, allowed: Mapping[str, frozenset[str]]):
        session = botocore.session.get_session()
        self._targets: dict[str, Operation] = {}
        routes: list[_Route] = []
        for service, names in allowed.items():
            model = session.get_service_model(service)
            for name in names:
                op = Operation(service, model.operation_model(name))
                if model.metadata["protocol"] == "json":
                    self._targets[f"{model.metadata['targetPrefix']}.{name}"] = op
                else:
                    uri = op.model.http["requestUri"].split("?")[0]
                    regex = re.sub(r"\\{(\w+)(\\\+)?\\}",
                                   lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})", re.escape(uri))
                    literal = len(re.sub(r"\{[^}]+\}", "", uri))
                    routes.append(_Route(op.model.http["method"], re.compile(f"^{regex}$"), literal, op))
        self._routes = sorted(routes, key=lambda r: -r.literal_chars)

    def by_target(self, target: str) -> Operation | None:
        return self._targets.get(target)

    def by_path(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for route in self._routes:
            if route.method == method:
                m = route.pattern.match(path)
                if m:
                    return route.operation, {k: unquote(v) for k, v in m.groupdict().items()}
        return None

    def names(self) -> list[tuple[str, str]]:
        ops = list(self._targets.values()) + [r.operation for r in self._routes]
        return sorted((op.service, op.name) for op in ops)


# ---- reading requests ---------------------------------------------------------------------------------
def parse_request(op: Operation, body: bytes, *, path_params: Mapping[str, str] | None = None,
                  query: str = "", headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The operation's input as boto3 would have passed it, validated against the model (ApiError if not)."""
    shape = op.model.input_shape
    if shape is None:
        return {}
    try:
        doc = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError("SerializationException", f"The request body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ApiError("SerializationException", "The request body must be a JSON object.")
    params: dict[str, Any] = {}
    if op.protocol == "rest-json":
        query_items = parse_qsl(query, keep_blank_values=True)
        lower_headers = {k.lower(): v for k, v in (headers or {}).items()}
        for name, member in shape.members.items():
            where = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if where == "uri" and path_params and wire in path_params:
                params[name] = _from_text(member, path_params[wire], op)
            elif where == "querystring":
                values = [v for k, v in query_items if k == wire]
                if values:
                    params[name] = ([_from_text(member.member, v, op) for v in values] if member.type_name == "list"
                                    else _from_text(member, values[-1], op))
            elif where == "header" and wire.lower() in lower_headers:
                params[name] = _from_text(member, lower_headers[wire.lower()], op)
            elif where is None and wire in doc:
                params[name] = _from_json(member, doc[wire], op, name)
        body_names = {m.serialization.get("name", n) for n, m in shape.members.items()
                      if m.serialization.get("location") is None}
        params.update({k: v for k, v in doc.items() if k not in body_names})  # unknown: the validator names them
    else:
        params = _from_json(shape, doc, op, "")
    validate(op, params)
    return params


def _from_text(shape: Shape, text: str, op: Operation) -> Any:
    try:
        if shape.type_name in ("integer", "long"):
            return int(text)
        if shape.type_name in ("float", "double"):
            return float(text)
        if shape.type_name == "boolean":
            return text.lower() == "true"
        if shape.type_name == "timestamp":
            return _timestamp(text)
    except ValueError:
        raise ApiError(op.validation_code(), f"{text!r} is not a valid {shape.type_name}.") from None
    return text


def _timestamp(value: Any) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_json(shape: Shape, value: Any, op: Operation, path: str) -> Any:
    """A JSON value as the Python value of its shape; what does not fit is passed on for the validator to name."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        out = {}
        for key, item in value.items():
            if key in by_wire:
                name, member = by_wire[key]
                out[name] = _from_json(member, item, op, f"{path}.{name}" if path else name)
            else:
                out[key] = item
        return out
    if kind == "list" and isinstance(value, list):
        return [_from_json(shape.member, v, op, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        return {k: _from_json(shape.value, v, op, f"{path}.{k}") for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(op.validation_code(), f"{path or 'The value'} is not valid base64.") from None
    if kind == "timestamp" and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return _timestamp(value)
        except (ValueError, OverflowError, OSError):
            raise ApiError(op.validation_code(), f"{path} is not a valid timestamp.") from None
    if kind in ("float", "double") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def validate(op: Operation, params: dict[str, Any]) -> None:
    """botocore's ParamValidator, then the model's max lengths and values, patterns and enums."""
    shape = op.model.input_shape
    report = ParamValidator().validate(params, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    _constraints(shape, params, "", problems)
    if problems:
        raise ApiError(op.validation_code(), "; ".join(problems))


def _constraints(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    where = path or "input"
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _constraints(member, value[name], f"{path}.{name}" if path else name, problems)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{where} has {len(value)} items; at most {meta['max']} are allowed")
        for i, item in enumerate(value):
            _constraints(shape.member, item, f"{where}[{i}]", problems)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            _constraints(shape.value, item, f"{where}.{key}", problems)
    elif kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{where} is {len(value)} characters; at most {meta['max']} are allowed")
        if shape.enum and value not in shape.enum:
            problems.append(f"{where} must be one of {', '.join(shape.enum)}, not {value!r}")
        pattern = _pattern(meta.get("pattern"))
        if pattern is not None and not pattern.search(value):
            problems.append(f"{where} {value[:80]!r} does not match the pattern {meta['pattern']}")
    # A blob over its maximum is left to the operation: Rekognition calls it ImageTooLargeException, not invalid.
    elif kind in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if "max" in meta and value > meta["max"]:
            problems.append(f"{where} is {value}; at most {meta['max']} is allowed")


@cache
def _pattern(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text, re.DOTALL)  # Smithy patterns are not implicitly anchored: search, as AWS does
    except re.error:
        return None  # a Java-only construct: the validator checks what Python can


# ---- writing responses -----------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def response_body(result: Mapping[str, Any] | None) -> bytes:
    return json.dumps(result or {}, default=_json_default, separators=(",", ":")).encode("utf-8")


def content_type(op: Operation | None) -> str:
    if op is not None and op.protocol == "json":
        return f"application/x-amz-json-{op.model.metadata.get('jsonVersion', '1.1')}"
    return "application/json"


def error_body(error: ApiError) -> bytes:
    return json.dumps({"__type": error.code, "message": error.message}).encode("utf-8")
