"""Webhooks: A2I's "SageMaker A2I HumanLoop Status Change" event POSTed to configured URLs, at least once.

When a human loop becomes Completed, Stopped or Failed, one delivery record per URL is written to the store
(record kind "webhook_delivery", grouped by state) before anything is sent, so a crash or a restart loses no
event: any process running a `Webhooks` sender picks up what is due. A sender takes a delivery with a versioned
write (a lease), so two processes rarely send the same one; at-least-once means a receiver should still treat
the event `id` as the key of an event it may see twice.

Each POST carries `X-Loupe-Timestamp` and `X-Loupe-Signature: sha256=<hex>`, the HMAC-SHA256 of
`<timestamp>.<body>` under LOUPE_WEBHOOK_SECRET (the timestamp is signed so a captured request can't be
replayed later). A delivery that fails is retried with exponential backoff (1 s, 2 s, 4 s ... up to 5 minutes)
and after MAX_ATTEMPTS attempts is recorded as failed, with its last error, for the Settings page.
"""
from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.domain import as_dict, from_dict, utc_now
from core.errors import LoupeError, NotFound, VersionConflict
from core.stores.base import RecordStore

log = logging.getLogger(__name__)

KIND = "webhook_delivery"
DETAIL_TYPE = "SageMaker A2I HumanLoop Status Change"
FINAL_STATUSES = ("Completed", "Stopped", "Failed")
STATES = ("pending", "delivered", "failed")
SIGNATURE_HEADER = "X-Loupe-Signature"
TIMESTAMP_HEADER = "X-Loupe-Timestamp"
MAX_ATTEMPTS = 8
BASE_DELAY_S = 1.0
MAX_DELAY_S = 300.0
LEASE_S = 30.0
TIMEOUT_S = 5.0

Poster = Callable[[str, bytes, dict[str, str], float], int]


@dataclass(frozen=True)
class WebhookSettings:
    urls: tuple[str, ...] = ()
    secret: str = ""

    @classmethod
    def parse(cls, urls: str, secret: str) -> WebhookSettings:
        """URLs separated by commas or spaces; each must be http(s)."""
        found = tuple(u for u in urls.replace(",", " ").split() if u)
        bad = [u for u in found if not u.startswith(("http://", "https://"))]
        if bad:
            raise LoupeError(f"Webhook URLs must start with http:// or https:// ({', '.join(bad)}).")
        return cls(found, secret)

    @property
    def is_enabled(self) -> bool:
        return bool(self.urls)


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    url: str
    event: dict[str, Any] = field(default_factory=dict)
    state: str = "pending"  # one of STATES
    attempts: int = 0
    next_attempt_at: float = 0.0  # epoch seconds
    lease_until: float = 0.0
    last_error: str = ""
    last_status: int = 0
    created_at: str = ""
    delivered_at: str = ""

    @property
    def event_id(self) -> str:
        return str(self.event.get("id", ""))

    @property
    def loop_name(self) -> str:
        return str(self.event.get("detail", {}).get("humanLoopName", ""))


def status_event(*, loop_name: str, status: str, loop_arn: str, flow_arn: str, created_at: str,
                 output_uri: str = "", failure_code: str | None = None, failure_reason: str | None = None,
                 account: str = "000000000000", region: str = "local") -> dict[str, Any]:
    """The EventBridge event A2I sends when a loop finishes, field for field (AWS's a2i-cloudwatch-events page)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": DETAIL_TYPE, "source": "aws.sagemaker",
        "account": account, "time": now, "region": region, "resources": [loop_arn],
        "detail": {
            "creationTime": created_at, "failureCode": failure_code, "failureReason": failure_reason,
            "flowDefinitionArn": flow_arn, "humanLoopArn": loop_arn, "humanLoopName": loop_name,
            "humanLoopOutput": {"outputS3Uri": output_uri} if output_uri else None,
            "humanLoopStatus": status,
        },
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def is_valid_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver checks (constant-time compare)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def backoff_s(attempts: int) -> float:
    return min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempts - 1))


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # noqa: S310 (http(s) checked in parse)
        return resp.status


class Webhooks:
    def __init__(self, records: RecordStore, settings: WebhookSettings, *, post: Poster = _post,
                 clock: Callable[[], float] = time.time):
        self.records = records
        self.settings = settings
        self._post = post
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- recording ---------------------------------------------------------------------------------
    def notify(self, event: dict[str, Any]) -> list[Delivery]:
        """Record one delivery of this event per configured URL, then wake the sender."""
        out = []
        for n, url in enumerate(self.settings.urls):
            d = Delivery(f"{event['id']}#{n}", url, event, next_attempt_at=self._clock(), created_at=utc_now())
            self.records.create(KIND, d.delivery_id, as_dict(d), parent="pending")
            out.append(d)
        if out:
            self._wake.set()
        return out

    def list(self, state: str | None = None) -> list[Delivery]:
        states = (state,) if state else STATES
        return [from_dict(Delivery, r.body) for s in states for r in self.records.query(KIND, parent=s)]

    def problems(self) -> builtins.list[Delivery]:
        """Failed deliveries, and pending ones whose last attempt failed: what Settings shows."""
        return [d for d in self.list() if d.state == "failed" or (d.state == "pending" and d.last_error)]

    def retry(self, delivery_id: str) -> Delivery:
        """Send a failed delivery again (attempts start over)."""
        rec = self.records.get(KIND, delivery_id)
        if rec is None:
            raise NotFound("webhook delivery", delivery_id)
        d = from_dict(Delivery, rec.body)
        again = {**as_dict(d), "state": "pending", "attempts": 0, "next_attempt_at": self._clock(), "lease_until": 0.0}
        self.records.put(KIND, delivery_id, again, expected_version=rec.version, parent="pending")
        self._wake.set()
        return from_dict(Delivery, again)

    # ---- sending -----------------------------------------------------------------------------------
    def deliver_due(self) -> int:
        """Attempt every pending delivery that is due and not leased by another sender; returns how many were sent."""
        sent = 0
        for rec in list(self.records.query(KIND, parent="pending")):
            d = from_dict(Delivery, rec.body)
            now = self._clock()
            if d.next_attempt_at > now or d.lease_until > now:
                continue
            leased = {**rec.body, "lease_until": now + LEASE_S, "attempts": d.attempts + 1}
            try:
                held = self.records.put(KIND, d.delivery_id, leased, expected_version=rec.version, parent="pending")
            except VersionConflict:
                continue  # another sender took it
            sent += self._attempt(from_dict(Delivery, leased), held.version)
        return sent

    def _attempt(self, d: Delivery, version: int) -> int:
        body = json.dumps(d.event, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(self._clock()))
        error, status = "", 0
        if not self.settings.secret:
            error = "LOUPE_WEBHOOK_SECRET is not set, so the event can't be signed; set it and retry."
        else:
            headers = {"Content-Type": "application/json", "User-Agent": "Loupe-Webhooks/1",
                       TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(self.settings.secret, timestamp, body),
                       "X-Loupe-Event-Id": d.event_id, "X-Loupe-Delivery-Attempt": str(d.attempts)}
            try:
                status = self._post(d.url, body, headers, TIMEOUT_S)
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except urllib.error.HTTPError as exc:
                status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            except (OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
        extra: dict[str, Any]
        if not error:
            state, extra = "delivered", {"delivered_at": utc_now(), "last_error": ""}
        elif d.attempts >= MAX_ATTEMPTS:
            state, extra = "failed", {"last_error": error}
        else:
            state, extra = "pending", {"last_error": error, "next_attempt_at": self._clock() + backoff_s(d.attempts)}
        body_out = {**as_dict(d), **extra, "state": state, "lease_until": 0.0, "last_status": status}
        try:
            self.records.put(KIND, d.delivery_id, body_out, expected_version=version, parent=state)
        except VersionConflict:
            log.warning("webhook delivery %s changed while it was sent; it may be sent again", d.delivery_id)
        if error:
            log.warning("webhook %s to %s failed (attempt %d): %s", d.event_id, d.url, d.attempts, error)
        return 0 if error else 1

    def start(self, interval_s: float = 1.0) -> None:
        """Send in a background thread until `stop` (pending deliveries from before a restart included)."""
        if self._thread is not None or not self.settings.is_enabled:
            return

        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.deliver_due()
                except LoupeError as exc:
                    log.error("webhook sender: %s", exc)
                except Exception:  # the sender must outlive one bad record or a store hiccup
                    log.exception("webhook sender failed; retrying")
                self._wake.wait(interval_s)
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="loupe-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_S + 1)
            self._thread = None
