"""Webhooks: A2I's status-change event, signed, recorded before it is sent, retried with backoff, failures kept."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.domain import HumanLoop, Workflow
from core.errors import LoupeError
from core.webhooks import (
    DETAIL_TYPE,
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Webhooks,
    WebhookSettings,
    backoff_s,
    is_valid_signature,
    status_event,
)
from tests.review_seed import ingest_demo

SECRET = "webhook-secret"


class Receiver:
    """A tiny HTTP server on loopback that records each POST and answers with the next scripted status."""

    def __init__(self, statuses=(200,)):
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k: v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def event(name: str = "loop-1", status: str = "Completed") -> dict:
    arn = "arn:aws:sagemaker:local:000000000000"
    return status_event(loop_name=name, status=status, loop_arn=f"{arn}:human-loop/{name}",
                        flow_arn=f"{arn}:flow-definition/f", created_at="2026-01-02T03:04:05.678Z",
                        output_uri="s3://b/f/2026/01/02/03/04/05/loop-1/output.json")


def test_the_event_has_a2is_eventbridge_shape_and_a_signature_the_receiver_can_check(service, receiver):
    hooks = Webhooks(service.records, WebhookSettings.parse(receiver.url, SECRET))
    sent = event()
    hooks.notify(sent)
    assert hooks.deliver_due() == 1
    ((headers, body),) = receiver.received
    assert is_valid_signature(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not is_valid_signature("other", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    doc = json.loads(body)
    assert doc == sent and doc["detail-type"] == DETAIL_TYPE and doc["source"] == "aws.sagemaker"
    assert set(doc["detail"]) == {"creationTime", "failureCode", "failureReason", "flowDefinitionArn", "humanLoopArn",
                                  "humanLoopName", "humanLoopOutput", "humanLoopStatus"}
    assert hooks.list("delivered")[0].delivered_at and hooks.deliver_due() == 0  # sent once


def test_a_failing_receiver_is_retried_with_backoff_and_then_recorded_as_failed(service):
    receiver = Receiver(statuses=[500])
    clock = Clock()
    try:
        hooks = Webhooks(service.records, WebhookSettings.parse(receiver.url, SECRET), clock=clock)
        hooks.notify(event())
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert hooks.deliver_due() == 0 and len(receiver.received) == attempt
            assert hooks.deliver_due() == 0 and len(receiver.received) == attempt  # not before its backoff
            clock.now += backoff_s(attempt)
        (failed,) = hooks.problems()
        assert failed.state == "failed" and failed.attempts == MAX_ATTEMPTS and "HTTP 500" in failed.last_error
        assert [backoff_s(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0] and backoff_s(20) == 300.0
        receiver.statuses = [204]
        hooks.retry(failed.delivery_id)
        assert hooks.deliver_due() == 1 and hooks.problems() == []
    finally:
        receiver.close()


def test_an_event_recorded_while_the_receiver_is_down_is_delivered_by_the_next_process(service, receiver):
    down = "http://127.0.0.1:9/unreachable"
    first = Webhooks(service.records, WebhookSettings.parse(f"{down} {receiver.url}", SECRET))
    first.notify(event())
    assert len(first.list("pending")) == 2  # written before anything is sent
    later = Webhooks(service.records, WebhookSettings.parse(f"{down} {receiver.url}", SECRET))  # e.g. after a restart
    assert later.deliver_due() == 1 and len(receiver.received) == 1
    (pending,) = later.problems()
    assert pending.url == down and pending.state == "pending" and pending.last_error


def test_a_completed_loop_is_announced_once_by_the_sender_thread(config, receiver):
    from dataclasses import replace

    from core.service import Service

    svc = Service(replace(config, webhook_urls=receiver.url, webhook_secret=SECRET))
    try:
        svc.workflows.save(Workflow(name="flow", task_type="moderation"))
        (media_id,) = ingest_demo(svc, ("cat.jpg",))
        svc.loops.create(HumanLoop("loop-a", media_id, "flow"))
        task = svc.review.next_task("ana", task_type="moderation")
        svc.review.submit(task, {"AWS/Rekognition/DetectModerationLabels/Image/V3": {"moderationLabels": []}})
        for _ in range(200):  # the receiver sees the POST before the sender records it as delivered
            if svc.webhooks.list("delivered"):
                break
            threading.Event().wait(0.05)
        ((headers, body),) = receiver.received
        assert json.loads(body)["detail"]["humanLoopStatus"] == "Completed"
        assert len(svc.webhooks.list("delivered")) == 1 and svc.webhooks.list("pending") == []
    finally:
        svc.close()


def test_webhook_urls_must_be_http():
    with pytest.raises(LoupeError, match="http"):
        WebhookSettings.parse("ftp://x/y", SECRET)
    assert WebhookSettings.parse("http://a/1, https://b/2", SECRET).urls == ("http://a/1", "https://b/2")
