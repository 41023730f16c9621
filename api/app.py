"""The AWS-compatible HTTP API: an ASGI app (Starlette) on the same core service as the pages.

One endpoint serves `sagemaker-a2i-runtime` (rest-json: told apart by path), and `sagemaker` and `rekognition`
(JSON protocol: told apart by `X-Amz-Target`). Every request, in this order: its size is checked, its SigV4
signature verified (api/sigv4.py), its operation found in botocore's models, the key's role authorized
(core.api_keys.authorize, the one place roles are checked), its parameters parsed and validated against the
model (api/protocol.py), and the operation run (api/operations.py). Nothing is read or written before the
signature holds, and nothing but JSON is ever served.

Serve it with `python -m core serve-api --host H --port P` (it answers at the root of http://H:P/), or through
`make run`, which starts it on 127.0.0.1:8502 next to the UI.
"""
from __future__ import annotations

import logging
import uuid
from collections import defaultdict

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.operations import HANDLERS, translate
from api.protocol import ApiError, Operation, Operations, content_type, error_body, parse_request, response_body
from api.sigv4 import ReceivedRequest, verify
from core.access import NotAllowed, acting, api_actor
from core.api_keys import AccessDenied, authorize
from core.errors import LoupeError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024  # a 5 MB Rekognition image is 6.7 MB in base64, plus the rest of the request
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]


def _allowed() -> dict[str, frozenset[str]]:
    by_service: dict[str, set[str]] = defaultdict(set)
    for service, name in HANDLERS:
        by_service[service].add(name)
    return {s: frozenset(names) for s, names in by_service.items()}


def create_app(service, *, max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """The API around a built core service (core.service.build_service); the caller closes the service."""
    operations = Operations(_allowed())

    def process(received: ReceivedRequest) -> tuple[Operation | None, dict]:
        key = verify(received, service.api_keys)
        target = received.header("x-amz-target")
        op, path_params = (operations.by_target(target), {}) if target else \
            (operations.by_path(received.method, received.raw_path.split("?")[0]) or (None, {}))
        if op is None:
            asked = target or f"{received.method} {received.raw_path}"
            raise ApiError("UnknownOperationException", f"Loupe does not serve {asked}. "
                           f"Served: {', '.join(n for _, n in operations.names())}.")
        try:
            authorize(key, op.service, op.name)
            params = parse_request(op, received.body, path_params=path_params, query=received.query,
                                   headers=dict(received.headers))
            # core checks roles again, and audits, as this key: admin keys as admins, client keys as reviewers
            with acting(api_actor(key.name, "admin" if key.role == "admin" else "reviewer")):
                return op, HANDLERS[(op.service, op.name)](service, key, params)
        except ApiError as exc:
            error = exc
        except (AccessDenied, NotAllowed) as exc:
            error = ApiError("AccessDeniedException", str(exc))
        except LoupeError as exc:
            error = translate(op.service, exc)
        error.operation = op
        raise error

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        op = None
        try:
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
                raise ApiError("RequestEntityTooLargeException",
                               f"The request body is {int(declared):,} bytes; the limit is {max_body_bytes:,}.")
            body = await _read_capped(request, max_body_bytes)
            received = ReceivedRequest(request.method, request.scope.get("raw_path", b"").decode("latin-1")
                                       or request.url.path, request.url.query,
                                       [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
                                       body)
            op, result = await run_in_threadpool(process, received)
            return Response(response_body(result), status_code=200, media_type=content_type(op),
                            headers={"x-amzn-RequestId": request_id})
        except ApiError as exc:
            op = exc.operation or op
            status = exc.http_status()
            if status >= 500:
                log.error("%s failed: %s", op.name if op else "request", exc.message)
            return Response(error_body(exc), status_code=status, media_type=content_type(op),
                            headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": exc.code})
        except Exception:
            log.exception("unexpected error in %s", op.name if op else "an API request")
            code = "InternalServerError" if op and op.service == "rekognition" else "InternalServerException"
            error = ApiError(code, "Loupe could not complete the request; the server log has the details.")
            return Response(error_body(error), status_code=500, media_type=content_type(op),
                            headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code})

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])


async def _read_capped(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("RequestEntityTooLargeException", f"The request body is over the limit of {limit:,} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
