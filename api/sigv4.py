"""Signature Version 4 checked on the server: botocore's own signer recomputes the signature of the request as it
arrived, under the key's secret, and the two are compared in constant time. Nothing here re-implements SigV4.

Refusals use AWS's codes: no signature (MissingAuthenticationTokenException), a malformed one
(IncompleteSignatureException), an unknown or revoked key (UnrecognizedClientException), a signature that does
not match or a timestamp more than 15 minutes off (InvalidSignatureException).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from api.protocol import ApiError
from core.api_keys import ApiKey, ApiKeys

MAX_SKEW_S = 15 * 60
ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*"
                   r"Signature=([0-9a-f]{64})\s*$")


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    raw_path: str  # as sent, still percent-encoded
    query: str  # as sent
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str  # YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(request: ReceivedRequest) -> Credential:
    header = request.header("authorization")
    if not header:
        if "X-Amz-Signature=" in request.query:
            raise ApiError("IncompleteSignatureException", "Presigned URLs are not accepted; sign the Authorization "
                                                           "header.")
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token: sign the request "
                       "with an access key Loupe issued (python -m core api-keys create).")
    m = _AUTH.match(header.strip())
    if not m:
        raise ApiError("IncompleteSignatureException", f"Authorization header is not a valid {ALGORITHM} signature.")
    scope = m.group(1).split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise ApiError("IncompleteSignatureException",
                       "Credential must be <key>/<date>/<region>/<service>/aws4_request.")
    signed = tuple(m.group(2).split(";"))
    for needed in ("host", "x-amz-date"):
        if needed not in signed:
            raise ApiError("IncompleteSignatureException", f"The {needed} header must be signed.")
    return Credential(scope[0], scope[1], scope[2], scope[3], signed, m.group(3))


def verify(request: ReceivedRequest, keys: ApiKeys, *, now: datetime | None = None) -> ApiKey:
    """The key that signed this request, or ApiError. Cheap checks first; the body is hashed last."""
    cred = parse_authorization(request)
    key = keys.get(cred.access_key_id)
    if key is None:
        raise ApiError("UnrecognizedClientException", "The security token included in the request is invalid: "
                                                      "no such access key.")
    if key.is_revoked:
        raise ApiError("UnrecognizedClientException", "The security token included in the request is invalid: "
                                                      f"the access key was revoked at {key.revoked_at}.")
    amz_date = request.header("x-amz-date") or ""
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise ApiError("IncompleteSignatureException", "X-Amz-Date must be an ISO 8601 basic timestamp "
                                                       "(YYYYMMDDTHHMMSSZ).") from None
    now = now or datetime.now(UTC)
    if abs((now - signed_at).total_seconds()) > MAX_SKEW_S:
        raise ApiError("InvalidSignatureException", f"Signature expired: {amz_date} is more than 15 minutes away "
                                                    f"from the server's time {now:%Y%m%dT%H%M%SZ}.")
    if cred.date != amz_date[:8]:
        raise ApiError("InvalidSignatureException", "The credential scope's date does not match X-Amz-Date.")
    content_sha = request.header("x-amz-content-sha256")
    if content_sha is not None and not hmac.compare_digest(content_sha, hashlib.sha256(request.body).hexdigest()):
        raise ApiError("InvalidSignatureException", "X-Amz-Content-SHA256 does not match the body that arrived "
                                                    "(unsigned payloads are not accepted).")
    expected = _signature(request, cred, key.secret_access_key, amz_date)
    if not hmac.compare_digest(expected, cred.signature):
        raise ApiError("InvalidSignatureException", "The request signature we calculated does not match the "
                                                    "signature you provided. Check your secret access key and "
                                                    "signing method.")
    return key


def _signature(request: ReceivedRequest, cred: Credential, secret: str, amz_date: str) -> str:
    headers = HTTPHeaders()
    for name, value in request.headers:
        if name.lower() in cred.signed_headers:
            headers.add_header(name.lower(), value)
    host = request.header("host") or ""
    url = f"http://{host}{request.raw_path}" + (f"?{request.query}" if request.query else "")
    aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(cred.access_key_id, secret), cred.service, cred.region)
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
