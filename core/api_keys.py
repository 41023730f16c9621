"""API keys for the AWS-compatible HTTP API: issue, list and revoke them, and say what each role may call.

A key is an AWS-style access key pair. Signature Version 4 derives its signing key from the secret itself
(HMAC of "AWS4" + secret with the date, region and service), so a verifier must hold the secret, not a hash of
it: the secret is kept as it is in the record store (record kind "api_key"), readable only by whoever can read
the store, which already holds every answer and media item. It is printed once when the key is created and
never listed again. Revoking keeps the record (who had access, and until when) and refuses it from then on.

Roles are checked here, in one place: `authorize(key, service, operation)` is what the API calls before any
operation runs. A `client` key may start, describe, list and stop human loops and call Rekognition; only an
`admin` key manages flow definitions and human task UIs, and deletes human loops.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from core.domain import as_dict, from_dict, utc_now
from core.errors import LoupeError, NotFound
from core.stores.base import RecordStore, update_record

KIND = "api_key"
ROLES = ("admin", "client")
KEY_ID_PREFIX = "LPK"  # AWS's own ids start with AKIA/ASIA; ours are told apart at a glance
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

CLIENT_OPERATIONS = frozenset({
    ("sagemaker-a2i-runtime", "StartHumanLoop"), ("sagemaker-a2i-runtime", "DescribeHumanLoop"),
    ("sagemaker-a2i-runtime", "ListHumanLoops"), ("sagemaker-a2i-runtime", "StopHumanLoop"),
    ("rekognition", "DetectLabels"), ("rekognition", "DetectModerationLabels"),
})


class AccessDenied(LoupeError):
    """The key is valid but its role does not allow the operation."""


@dataclass(frozen=True)
class ApiKey:
    access_key_id: str
    name: str  # the acting identity recorded for what the key does (created_by, worker fields)
    role: str  # one of ROLES
    secret_access_key: str = ""
    created_at: str = ""
    created_by: str = ""
    revoked_at: str = ""

    @property
    def is_revoked(self) -> bool:
        return bool(self.revoked_at)

    def public(self) -> dict[str, str | bool]:
        """What `api-keys list` shows: everything but the secret."""
        return {"access_key_id": self.access_key_id, "name": self.name, "role": self.role,
                "created_at": self.created_at, "created_by": self.created_by, "revoked_at": self.revoked_at,
                "is_revoked": self.is_revoked}


def may_call(role: str, service: str, operation: str) -> bool:
    return role == "admin" or (role == "client" and (service, operation) in CLIENT_OPERATIONS)


def authorize(key: ApiKey, service: str, operation: str) -> None:
    """Raise AccessDenied unless this key's role may call the operation."""
    if not may_call(key.role, service, operation):
        raise AccessDenied(f"API key {key.name!r} has the {key.role} role, which may not call {operation}; "
                           "ask an admin for an admin key.")


class ApiKeys:
    def __init__(self, records: RecordStore):
        self.records = records

    def create(self, name: str, role: str, *, created_by: str = "") -> ApiKey:
        """Issue a new key pair. The returned value is the only time the secret leaves the store."""
        name = (name or "").strip()
        if not name or len(name) > 64:
            raise LoupeError("An API key needs a name of 1-64 characters (it is recorded as the acting identity).")
        if role not in ROLES:
            raise LoupeError(f"An API key's role is one of {', '.join(ROLES)}, not {role!r}.")
        key_id = KEY_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))
        key = ApiKey(key_id, name, role, secret_access_key=secrets.token_urlsafe(30)[:40], created_at=utc_now(),
                     created_by=created_by)
        self.records.create(KIND, key_id, as_dict(key))
        return key

    def get(self, access_key_id: str) -> ApiKey | None:
        rec = self.records.get(KIND, access_key_id)
        return from_dict(ApiKey, rec.body) if rec else None

    def list(self) -> list[ApiKey]:
        return [from_dict(ApiKey, r.body) for r in self.records.query(KIND)]

    def revoke(self, access_key_id: str) -> ApiKey:
        """Refuse this key from now on; revoking twice keeps the first time."""
        if self.get(access_key_id) is None:
            raise NotFound("API key", access_key_id)
        body = update_record(self.records, KIND, access_key_id,
                             lambda b: {**b, "revoked_at": b.get("revoked_at") or utc_now()}, what="API key")
        return replace(from_dict(ApiKey, body), secret_access_key="")
