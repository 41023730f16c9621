"""The DynamoDB store beyond the shared contract: item size, pagination, throttling, unprocessed batch items,
and plain-words health checks, on real local servers (moto_server, dynalite)."""
from __future__ import annotations

import json
import threading
import urllib.request
import uuid

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from core.aws import AwsConfig, make_client
from core.errors import StoreUnavailable, VersionConflict
from core.stores.base import Record
from core.stores.dynamodb import DynamoDBRecordStore
from tests.contract.dynamodb_backends import open_test_records, test_aws
from tests.contract.test_large_records import three_hour_transcript
from tests.dynamodb_servers import endpoint_for


@pytest.fixture(params=["moto", "dynalite"])
def backend(request, monkeypatch) -> str:
    env = {"moto": "LOUPE_TEST_MOTO_ENDPOINT", "dynalite": "LOUPE_TEST_DYNALITE_ENDPOINT"}[request.param]
    monkeypatch.setenv(env, endpoint_for(request.param))
    return request.param


def _store(backend: str, **kwargs) -> DynamoDBRecordStore:
    return open_test_records(backend, f"unit-{uuid.uuid4().hex[:10]}", **kwargs)


class FaultInjector:
    """botocore event hooks that make the server look throttled, the way DynamoDB answers under load."""

    def __init__(self, store: DynamoDBRecordStore, *, every: int, limit: int):
        self.every, self.limit, self.seen, self.injected = every, limit, 0, 0
        self._lock = threading.Lock()
        store.client.meta.events.register("before-send.dynamodb", self.before_send)

    def before_send(self, request, **_):
        with self._lock:
            self.seen += 1
            if self.injected >= self.limit or self.seen % self.every:
                return None
            self.injected += 1
            code = ("ProvisionedThroughputExceededException", "ThrottlingException")[self.injected % 2]
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                           "message": "Rate of requests exceeds the allowed throughput."}).encode()
        # The request never reaches the server, exactly like a throttled call: a retry must not duplicate it.
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def test_throttled_calls_are_retried_and_no_write_is_lost(backend):
    store = _store(backend)
    faults = FaultInjector(store, every=5, limit=6)
    for i in range(20):
        store.create("answer", f"loop1|w{i:02d}", {"i": i}, parent="loop1")
    for i in range(0, 20, 2):
        store.put("answer", f"loop1|w{i:02d}", {"i": i, "edited": True}, expected_version=1, parent="loop1")
    store.put_many(Record("prediction", f"p{i:03d}", {"i": i}) for i in range(60))
    assert faults.injected == 6
    answers = list(store.query("answer", parent="loop1"))
    assert [a.body["i"] for a in answers] == list(range(20))
    assert [a.version for a in answers] == [2 if i % 2 == 0 else 1 for i in range(20)]
    assert store.count("prediction") == 60


def test_unprocessed_batch_items_are_retried_until_every_one_is_written(backend):
    store = _store(backend)
    dropped: list[dict] = []
    calls = {"n": 0}

    def keep_half(params, **_):  # the server "processes" only half of each of the first batches
        calls["n"] += 1
        items = params["RequestItems"][store.table]
        if calls["n"] <= 8 and len(items) > 1:
            half = len(items) // 2
            dropped.append({store.table: items[half:]})
            params["RequestItems"][store.table] = items[:half]

    def report_unprocessed(parsed, **_):
        if dropped and not parsed.get("UnprocessedItems"):
            parsed["UnprocessedItems"] = dropped.pop()

    store.client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", keep_half)
    store.client.meta.events.register("after-call.dynamodb.BatchWriteItem", report_unprocessed)
    written = store.put_many(Record("prediction", f"p{i:04d}", {"i": i}, parent="m") for i in range(300))
    assert written == 300 and calls["n"] > 12  # 12 batches of 25, plus the retries
    assert [r.body["i"] for r in store.query("prediction", parent="m")] == list(range(300))


def test_a_write_whose_response_was_lost_is_not_reported_as_a_conflict(backend):
    """The server applies the write but the answer never arrives; boto3 retries and meets its own condition."""
    store = _store(backend)
    lost = {"n": 0}

    def apply_then_drop_the_response(request, **_):
        first_attempt = request.headers.get("amz-sdk-request", b"").startswith(b"attempt=1;")
        if lost["n"] < 2 and first_attempt and b"PutItem" in request.headers.get("X-Amz-Target", b""):
            lost["n"] += 1
            req = urllib.request.Request(request.url, data=request.body, method="POST",
                                         headers={k: v.decode() if isinstance(v, bytes) else v
                                                  for k, v in request.headers.items()})
            urllib.request.urlopen(req, timeout=10).read()
            raise ReadTimeoutError(endpoint_url=request.url)

    store.client.meta.events.register("before-send.dynamodb", apply_then_drop_the_response)
    store.create("answer", "loop1|ann", {"v": 1}, parent="loop1")
    store.put("answer", "loop1|ann", {"v": 2}, expected_version=1, parent="loop1")
    assert lost["n"] == 2
    got = store.get("answer", "loop1|ann")
    assert got.version == 2 and got.body == {"v": 2}
    with pytest.raises(VersionConflict):
        store.put("answer", "loop1|ann", {"v": 3}, expected_version=1)


def test_keys_may_hold_any_text_but_kinds_may_not_hold_the_separator(backend):
    store = _store(backend)
    store.create("transcript", "m1#v2|ünïcode <b>", {"ok": True}, parent="")
    assert store.get("transcript", "m1#v2|ünïcode <b>").body == {"ok": True}
    assert store.get("transcript", "m1") is None
    with pytest.raises(ValueError, match="without '#'"):
        store.create("a#b", "c", {})


def test_queries_follow_last_evaluated_key_across_pages(backend):
    store = _store(backend, page_size=7)
    store.put_many(Record("item", f"k{i:03d}", {"i": i}, parent="odd" if i % 2 else "even") for i in range(50))
    assert [r.body["i"] for r in store.query("item")] == list(range(50))
    assert [r.body["i"] for r in store.query("item", parent="odd")] == list(range(1, 50, 2))
    assert store.count("item") == 50
    assert len(list(store.scan())) == 50


def test_a_three_hour_transcript_is_split_into_items_under_the_400_kb_limit(backend):
    store = _store(backend)
    body = three_hour_transcript()
    store.create("transcript", "m1", body)
    store.put("transcript", "m1", {**body, "created_by": "alice"}, expected_version=1)
    client = store.client
    items = [it for page in client.get_paginator("scan").paginate(TableName=store.table) for it in page["Items"]]
    sizes = [sum(len(k) + len(json.dumps(v, default=len)) for k, v in it.items()) for it in items]
    chunk_items = [it for it in items if "#chunk#" in it["pk"]["S"]]
    assert len(chunk_items) >= 2, "the body should need several chunk items"
    assert max(sizes) < 400 * 1024
    assert len({it["pk"]["S"].split("#chunk#")[1].split("#")[0] for it in chunk_items}) == 1, "old chunks are freed"
    assert store.get("transcript", "m1").body["created_by"] == "alice"


def test_check_says_when_the_table_does_not_exist(backend):
    missing = DynamoDBRecordStore("no-such-table", aws=test_aws(backend))
    health = missing.check()
    assert not health.ok and "does not exist" in health.message and "setup-aws" in health.message
    with pytest.raises(StoreUnavailable, match="does not exist"):
        missing.get("media", "x")


def test_check_says_when_access_is_denied(backend):
    store = _store(backend)

    def deny(request, **_):
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
                           "message": "User is not authorized to perform: dynamodb:DescribeTable"}).encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))

    store.client.meta.events.register("before-send.dynamodb", deny)
    health = store.check()
    assert not health.ok and "Access denied" in health.message and "IAM policy" in health.message


def test_check_says_when_there_are_no_credentials(backend, monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = DynamoDBRecordStore("t", aws=AwsConfig(endpoint_url=endpoint_for(backend), region="us-east-1"))
    health = store.check()
    assert not health.ok and "No AWS credentials" in health.message


def test_check_says_when_the_endpoint_cannot_be_reached():
    store = DynamoDBRecordStore("t", aws=AwsConfig(endpoint_url="http://127.0.0.1:9", region="us-east-1",
                                                     access_key_id="x", secret_access_key="x"))
    store._client = make_client("dynamodb", store.aws, max_attempts=1)
    health = store.check()
    assert not health.ok and "Cannot reach" in health.message


def test_read_capacity_is_summed_on_the_store(backend):
    store = _store(backend)
    store.put_many(Record("item", f"k{i}", {"pad": "x" * 100}) for i in range(30))
    before = store.consumed_rcu
    store.page("item", limit=10)
    after_page = store.consumed_rcu
    store.get("item", "k1")
    assert after_page > before and store.consumed_rcu > after_page
    assert store.consumed_wcu > 0


def test_setup_adds_the_sort_indexes_to_a_table_made_before_them(backend):
    from core.stores.aws_setup import ensure_table, table_definition

    client = make_client("dynamodb", test_aws(backend))
    table = f"old-{uuid.uuid4().hex[:10]}"
    old = table_definition(table)
    old["GlobalSecondaryIndexes"] = old["GlobalSecondaryIndexes"][:2]
    old["AttributeDefinitions"] = [a for a in old["AttributeDefinitions"] if a["AttributeName"] != "so"]
    client.create_table(**old)
    store = DynamoDBRecordStore(table, aws=test_aws(backend))
    assert not store.check().ok and "setup-aws" in store.check().message
    if backend == "dynalite":  # it answers UpdateTable's index creation with success and adds nothing
        with pytest.raises(StoreUnavailable, match="create a new table"):
            ensure_table(client, table)
        return
    assert ensure_table(client, table) is False
    assert store.check().ok
    store.create("item", "a", {}, sort="2")
    store.create("item", "b", {}, sort="1")
    assert [r.key for r in store.page("item", order="sort").records] == ["b", "a"]
