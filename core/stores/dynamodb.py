"""The team store: records in one DynamoDB table and media in an S3 bucket, both through boto3.

Key design (single table, see README "Team backend"):
- main item: `pk = "<kind>#<key>"`, attributes `kind`, `key`, `sk` (= "." + key, the GSI sort key;
  DynamoDB refuses empty key strings, and the shared prefix keeps key order), `parent`, `kp`
  (= "<kind>#<parent>"), `version`, `updated_at`, and the body: `body` (JSON text) when small, else
  `chunk_id` + `chunks` pointing at chunk items.
- chunk items: `pk = "<kind>#<key>#chunk#<chunk_id>#<i>"`, attribute `data` (a slice of the zlib-compressed
  JSON). They carry no `kind`, so the indexes never see them. A new `chunk_id` per write means two racing
  writers never share chunk items; the conditional write on the main item picks the winner, and the loser
  deletes its chunks.
- GSI `by_kind` (kind, sk): `query(kind)` and `count(kind)` in key order.
- GSI `by_parent` (kp, sk): `query(kind, parent=...)` in key order.

Every write that can collide is a conditional write on `version`; no transactions are used (dynalite has
none). `get` reads with ConsistentRead; queries go through the indexes, which real DynamoDB updates
eventually (usually well under a second), so a record just written may show up in a list a moment later.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import random
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from core.aws import AwsConfig, explain_aws_error, make_client  # noqa: F401  (re-exported for callers)
from core.errors import AlreadyExists, NotFound, StoreUnavailable, VersionConflict
from core.stores.base import Record, StoreHealth

log = logging.getLogger(__name__)

KIND_INDEX = "by_kind"
PARENT_INDEX = "by_parent"
INLINE_BODY_BYTES = 64 * 1024  # JSON bodies larger than this are compressed; well under the 400 KB item limit
CHUNK_BYTES = 300 * 1024  # compressed slice per chunk item, leaving room for the item's other attributes
BATCH_WRITE_MAX = 25  # DynamoDB's BatchWriteItem limit
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit
MAX_UNPROCESSED_ROUNDS = 12
_BY_KIND = {"KeyConditionExpression": "#k = :h", "ExpressionAttributeNames": {"#k": "kind"}}
_MAIN_ITEMS = {"FilterExpression": "attribute_exists(#k)", "ExpressionAttributeNames": {"#k": "kind"}}  # not chunks


def _lazy_client(store, service_name: str):
    """The store's boto3 client, built on first use so a misconfigured backend still lets the app start and
    explain itself (NoRegionError and friends are raised when a client is made)."""
    if store._client is None:
        with store._lock:
            if store._client is None:
                try:
                    store._client = make_client(service_name, store.aws)
                except Exception as exc:
                    raise StoreUnavailable(explain_aws_error(exc, what=store._what()) or str(exc)) from exc
    return store._client


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


class DynamoDBRecordStore:
    """The RecordStore contract on one DynamoDB table (create it with `ensure_table` / `setup-aws`)."""

    def __init__(self, table: str, *, aws: AwsConfig | None = None, client=None, page_size: int | None = None,
                 backoff_base_s: float = 0.05, backoff_max_s: float = 5.0):
        self.table = table
        self.aws = aws or AwsConfig()
        self.page_size = page_size
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._client = client
        self._lock = threading.Lock()

    # ---- plumbing -----------------------------------------------------------------------------------
    @property
    def client(self):
        return _lazy_client(self, "dynamodb")

    def _what(self) -> str:
        return f"DynamoDB table {self.table!r}"

    def _call(self, op: str, **kwargs) -> dict[str, Any]:
        """One API call; conditional failures pass through, problems a user can fix become StoreUnavailable."""
        try:
            if not op.startswith("batch_"):
                kwargs["TableName"] = self.table
            return getattr(self.client, op)(**kwargs)
        except Exception as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise
            message = explain_aws_error(exc, what=self._what())
            if message:
                raise StoreUnavailable(message) from exc
            raise

    # ---- items <-> records --------------------------------------------------------------------------
    def _item(self, kind: str, key: str, parent: str, version: int, updated_at: float, body: dict[str, Any],
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The main item and its chunk items (none for a small body)."""
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        item: dict[str, Any] = {
            "pk": {"S": _pk(kind, key)}, "kind": {"S": kind}, "key": {"S": key}, "sk": {"S": "." + key},
            "parent": {"S": parent}, "kp": {"S": f"{kind}#{parent}"}, "version": {"N": str(version)},
            "updated_at": {"N": repr(float(updated_at))}, "wt": {"S": uuid.uuid4().hex},
        }
        raw = text.encode("utf-8")
        if len(raw) <= INLINE_BODY_BYTES:
            item["body"] = {"S": text}
            return item, []
        packed = zlib.compress(raw, 6)
        if len(packed) <= CHUNK_BYTES:
            item["bodyz"] = {"B": packed}
            return item, []
        chunk_id = uuid.uuid4().hex
        pieces = [packed[i:i + CHUNK_BYTES] for i in range(0, len(packed), CHUNK_BYTES)]
        item["chunk_id"] = {"S": chunk_id}
        item["chunks"] = {"N": str(len(pieces))}
        chunk_items = [{"pk": {"S": _chunk_pk(kind, key, chunk_id, i)}, "data": {"B": piece}}
                       for i, piece in enumerate(pieces)]
        return item, chunk_items

    def _record(self, item: dict[str, Any], *, consistent: bool) -> Record | None:
        """A record from its main item, or None if its chunks vanished (a newer write replaced them)."""
        kind, key = item["kind"]["S"], item["key"]["S"]
        if "body" in item:
            body = json.loads(item["body"]["S"])
        elif "bodyz" in item:
            body = json.loads(zlib.decompress(_bytes(item["bodyz"]["B"])))
        else:
            chunk_id, n = item["chunk_id"]["S"], int(item["chunks"]["N"])
            pieces = self._get_chunks([_chunk_pk(kind, key, chunk_id, i) for i in range(n)], consistent=consistent)
            if pieces is None:
                return None
            body = json.loads(zlib.decompress(b"".join(pieces)))
        return Record(kind, key, body, int(item["version"]["N"]), item["parent"]["S"], float(item["updated_at"]["N"]))

    def _get_chunks(self, pks: list[str], *, consistent: bool) -> list[bytes] | None:
        found: dict[str, bytes] = {}
        for start in range(0, len(pks), BATCH_GET_MAX):
            pending: dict[str, Any] = {self.table: {"Keys": [{"pk": {"S": pk}} for pk in pks[start:start + BATCH_GET_MAX]],
                                                    "ConsistentRead": consistent}}
            for attempt in range(MAX_UNPROCESSED_ROUNDS):
                resp = self._call("batch_get_item", RequestItems=pending)
                for it in resp.get("Responses", {}).get(self.table, []):
                    found[it["pk"]["S"]] = _bytes(it["data"]["B"])
                pending = resp.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._sleep_backoff(attempt)
            else:
                raise StoreUnavailable(f"{self._what()} kept refusing reads (throttled); try again shortly.")
        if len(found) != len(pks):
            return None
        return [found[pk] for pk in pks]

    def _write_chunks(self, chunks: list[dict[str, Any]]) -> None:
        self._batch_write([{"PutRequest": {"Item": c}} for c in chunks])

    def _delete_chunks(self, item: dict[str, Any] | None) -> None:
        """Best effort: chunk items no main item points at any more are garbage, never read."""
        if not item or "chunk_id" not in item:
            return
        kind, key, chunk_id = item["kind"]["S"], item["key"]["S"], item["chunk_id"]["S"]
        try:
            self._batch_write([{"DeleteRequest": {"Key": {"pk": {"S": _chunk_pk(kind, key, chunk_id, i)}}}}
                               for i in range(int(item["chunks"]["N"]))])
        except Exception:
            log.warning("could not delete old chunks of %s %s; they are unused and harmless", kind, key, exc_info=True)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem in groups of 25, retrying UnprocessedItems with exponential backoff and jitter."""
        for start in range(0, len(requests), BATCH_WRITE_MAX):
            pending = {self.table: requests[start:start + BATCH_WRITE_MAX]}
            for attempt in range(MAX_UNPROCESSED_ROUNDS):
                resp = self._call("batch_write_item", RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}
                if not pending:
                    break
                log.info("retrying %d unprocessed writes to %s", len(pending.get(self.table, [])), self.table)
                self._sleep_backoff(attempt)
            else:
                left = len(pending.get(self.table, []))
                raise StoreUnavailable(f"{self._what()} kept refusing {left} writes (throttled); nothing else "
                                       "was lost. Try again shortly, or raise the table's capacity.")

    def _sleep_backoff(self, attempt: int) -> None:
        time.sleep(random.uniform(0, min(self.backoff_max_s, self.backoff_base_s * (2 ** attempt))))

    # ---- the RecordStore contract -------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Record | None:
        for _ in range(5):
            item = self._call("get_item", Key={"pk": {"S": _pk(kind, key)}}, ConsistentRead=True).get("Item")
            if item is None:
                return None
            record = self._record(item, consistent=True)
            if record is not None:
                return record
        raise StoreUnavailable(f"{kind} {key!r} changed five times while it was being read; try again.")

    def _conditional_put(self, item: dict[str, Any], chunks: list[dict[str, Any]], condition: str,
                         values: dict[str, Any] | None = None) -> tuple[bool, dict[str, Any] | None]:
        """PutItem if `condition` holds: (True, replaced item) or (False, the current item, read consistently).

        A write whose response was lost and which boto3 then retried fails its own condition; the write token
        (`wt`, fresh per write) recognises it as ours, so it is not reported as a conflict.
        """
        self._write_chunks(chunks)
        try:
            resp = self._call("put_item", Item=item, ReturnValues="ALL_OLD", **_condition(condition, values))
            return True, resp.get("Attributes")
        except Exception as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise  # the write may still have landed: its chunks must stay
        current = self._call("get_item", Key={"pk": item["pk"]}, ConsistentRead=True).get("Item")
        if current is not None and current.get("wt") == item["wt"]:
            return True, None
        if chunks:
            self._delete_chunks(item)
        return False, current

    def create(self, kind: str, key: str, body: dict[str, Any], *, parent: str = "") -> Record:
        now = time.time()
        item, chunks = self._item(kind, key, parent, 1, now, body)
        written, _ = self._conditional_put(item, chunks, "attribute_not_exists(pk)")
        if not written:
            raise AlreadyExists(kind, key)
        return Record(kind, key, body, 1, parent, now)

    def put(self, kind: str, key: str, body: dict[str, Any], *, expected_version: int, parent: str = "") -> Record:
        now = time.time()
        item, chunks = self._item(kind, key, parent, expected_version + 1, now, body)
        written, other = self._conditional_put(item, chunks, "#v = :v", {":v": {"N": str(expected_version)}})
        if not written:
            current = self._record(other, consistent=True) if other else None
            if other is not None and current is None:  # replaced again while we read it
                current = self.get(kind, key)
            raise VersionConflict(kind, key, expected_version, current.version if current else None,
                                  current.body if current else None)
        self._delete_chunks(other)
        return Record(kind, key, body, expected_version + 1, parent, now)

    def put_many(self, records: Iterable[Record]) -> int:
        now = time.time()
        latest: dict[str, Record] = {}
        for r in records:
            latest[_pk(r.kind, r.key)] = r  # BatchWriteItem refuses two writes to one key in a batch; last wins
        small: list[dict[str, Any]] = []
        for r in latest.values():
            item, chunks = self._item(r.kind, r.key, r.parent, r.version, r.updated_at or now, r.body)
            if not chunks:
                small.append({"PutRequest": {"Item": item}})
                continue
            self._write_chunks(chunks)  # a chunked body replaces the old item one by one, to free its chunks
            old = self._call("put_item", Item=item, ReturnValues="ALL_OLD").get("Attributes")
            self._delete_chunks(old)
        # An upsert over a chunked record would leave its chunks unreferenced: harmless garbage, never read.
        self._batch_write(small)
        return len(latest)

    def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> None:
        if expected_version is None:
            condition = _condition("attribute_exists(pk)")
        else:
            condition = _condition("#v = :v", {":v": {"N": str(expected_version)}})
        try:
            resp = self._call("delete_item", Key={"pk": {"S": _pk(kind, key)}}, ReturnValues="ALL_OLD", **condition)
        except Exception as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.get(kind, key)
            if current is None:
                raise NotFound(kind, key) from None
            raise VersionConflict(kind, key, expected_version, current.version, current.body) from None
        self._delete_chunks(resp.get("Attributes"))

    def query(self, kind: str, *, parent: str | None = None) -> Iterator[Record]:
        if parent is None:
            args: dict[str, Any] = {"IndexName": KIND_INDEX, **_BY_KIND, "ExpressionAttributeValues": {":h": {"S": kind}}}
        else:
            args = {"IndexName": PARENT_INDEX, "KeyConditionExpression": "kp = :h",
                    "ExpressionAttributeValues": {":h": {"S": f"{kind}#{parent}"}}}
        for item in self._pages("query", args):
            record = self._record(item, consistent=False)
            if record is None:  # replaced since the index was read: fetch the current version
                record = self.get(kind, item["key"]["S"])
            if record is not None:
                yield record

    def count(self, kind: str) -> int:
        args = {"IndexName": KIND_INDEX, **_BY_KIND, "ExpressionAttributeValues": {":h": {"S": kind}}, "Select": "COUNT"}
        total = 0
        start: dict[str, Any] | None = None
        while True:
            resp = self._call("query", **args, **({"ExclusiveStartKey": start} if start else {}))
            total += resp.get("Count", 0)
            start = resp.get("LastEvaluatedKey")
            if not start:
                return total

    def scan(self) -> Iterator[Record]:
        """Every record, in no particular order (for migration). Chunk items are folded into their records."""
        for item in self._pages("scan", _MAIN_ITEMS):
            record = self._record(item, consistent=True)
            if record is None:
                record = self.get(item["kind"]["S"], item["key"]["S"])
            if record is not None:
                yield record

    def _pages(self, op: str, args: dict[str, Any]) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
            if self.page_size:
                extra["Limit"] = self.page_size
            resp = self._call(op, **args, **extra)
            yield from resp.get("Items", [])
            start = resp.get("LastEvaluatedKey")
            if not start:
                return

    def check(self) -> StoreHealth:
        try:
            desc = self.client.describe_table(TableName=self.table)["Table"]
        except StoreUnavailable as exc:
            return StoreHealth(False, str(exc))
        except Exception as exc:
            return StoreHealth(False, explain_aws_error(exc, what=self._what()) or f"{self._what()}: {exc}")
        indexes = {i["IndexName"] for i in desc.get("GlobalSecondaryIndexes", [])}
        missing = {KIND_INDEX, PARENT_INDEX} - indexes
        if missing:
            return StoreHealth(False, f"{self._what()} lacks the indexes {', '.join(sorted(missing))}. "
                                      "It was not made by `python -m core setup-aws`; create a new table with it.")
        return StoreHealth(True, f"{self._what()} is reachable ({desc.get('TableStatus', '?').lower()}, "
                                 f"about {desc.get('ItemCount', 0)} items).")

    def close(self) -> None:
        pass  # boto3 clients hold a connection pool that is freed with the object

    def describe(self) -> str:
        where = self.aws.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or "AWS"
        return f"DynamoDB table {self.table} at {where}"


def _condition(expression: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """ConditionExpression arguments; attribute names go through placeholders, safe from reserved words."""
    args: dict[str, Any] = {"ConditionExpression": expression}
    if "#v" in expression:
        args["ExpressionAttributeNames"] = {"#v": "version"}
    if values:
        args["ExpressionAttributeValues"] = values
    return args


def _pk(kind: str, key: str) -> str:
    if "#" in kind or not kind:
        raise ValueError(f"A record kind must be non-empty and without '#': {kind!r}")  # '#' separates kind from key
    return f"{kind}#{key}"


def _chunk_pk(kind: str, key: str, chunk_id: str, i: int) -> str:
    return f"{kind}#{key}#chunk#{chunk_id}#{i}"


def _bytes(value: Any) -> bytes:
    return bytes(value) if not isinstance(value, bytes) else value


# ---- table and bucket setup (only ever on request: `python -m core setup-aws`) ---------------------------
def table_definition(table: str) -> dict[str, Any]:
    """CreateTable arguments: on-demand billing, the key and the two indexes the queries need."""
    def gsi(name: str, hash_attr: str) -> dict[str, Any]:
        return {"IndexName": name, "KeySchema": [{"AttributeName": hash_attr, "KeyType": "HASH"},
                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}

    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "kind", "kp", "sk")],
        "GlobalSecondaryIndexes": [gsi(KIND_INDEX, "kind"), gsi(PARENT_INDEX, "kp")],
    }


def ensure_table(client, table: str, *, timeout_s: float = 120.0) -> bool:
    """Create the table if missing and wait until it and its indexes are active. True if it was created."""
    created = False
    try:
        client.describe_table(TableName=table)
    except Exception as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        try:
            client.create_table(**table_definition(table))
            created = True
        except Exception as create_exc:
            if _code(create_exc) != "ResourceInUseException":  # created by someone else meanwhile
                raise
    deadline = time.monotonic() + timeout_s
    while True:
        desc = client.describe_table(TableName=table)["Table"]
        indexes = desc.get("GlobalSecondaryIndexes", [])
        if desc["TableStatus"] == "ACTIVE" and all(i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return created
        if time.monotonic() > deadline:
            raise StoreUnavailable(f"DynamoDB table {table!r} is still {desc['TableStatus']} after {timeout_s:.0f} s.")
        time.sleep(0.05 if time.monotonic() - deadline + timeout_s < 2 else 1.0)


def ensure_bucket(client, bucket: str) -> bool:
    """Create the bucket if missing (in the client's region). True if it was created."""
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except Exception as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    region = client.meta.region_name
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)
    except Exception as exc:
        if _code(exc) != "BucketAlreadyOwnedByYou":
            raise
        return False
    return True


# ---- media in S3 ---------------------------------------------------------------------------------------
class S3BlobStore:
    """Media under s3://bucket/media/<sha256>, stored once; a local cache folder serves decoders that need a path."""

    def __init__(self, bucket: str, cache_dir: Path, *, aws: AwsConfig | None = None, client=None,
                 prefix: str = "media/"):
        self.bucket = bucket
        self.cache_dir = Path(cache_dir)
        self.aws = aws or AwsConfig()
        self.prefix = prefix
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self):
        return _lazy_client(self, "s3")

    def _what(self) -> str:
        return f"S3 bucket {self.bucket!r}"

    def _key(self, sha256: str) -> str:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"Not a sha256 hex digest: {sha256!r}")
        return self.prefix + sha256

    def _guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except StoreUnavailable:
            raise
        except Exception as exc:
            message = explain_aws_error(exc, what=self._what())
            if message and _code(exc) not in ("404", "NoSuchKey"):
                raise StoreUnavailable(message) from exc
            raise

    def put_file(self, sha256: str, src: Path) -> bool:
        key = self._key(sha256)
        if self.exists(sha256):
            return False
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        with open(src, "rb") as fh:
            # S3 checks the content against its sha256, so a wrong hash can never land under a key.
            self._guard(lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=fh, ChecksumSHA256=checksum))
        return True

    def exists(self, sha256: str) -> bool:
        key = self._key(sha256)
        try:
            self._guard(lambda: self.client.head_object(Bucket=self.bucket, Key=key))
            return True
        except StoreUnavailable:
            raise
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def open(self, sha256: str) -> BinaryIO:
        return self.local_path(sha256).open("rb")

    def local_path(self, sha256: str) -> Path:
        key = self._key(sha256)
        path = self.cache_dir / sha256[:2] / sha256
        if path.exists():
            return path  # content-addressed: a cached copy is never stale
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha256}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self._guard(lambda: self.client.download_file(self.bucket, key, str(tmp)))
        except StoreUnavailable:
            raise
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise NotFound("media file", sha256) from None
            raise
        os.replace(tmp, path)
        return path

    def check(self) -> StoreHealth:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except StoreUnavailable as exc:
            return StoreHealth(False, str(exc))
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return StoreHealth(False, f"{self._what()} does not exist. Create it with `python -m core setup-aws`.")
            return StoreHealth(False, explain_aws_error(exc, what=self._what()) or f"{self._what()}: {exc}")
        return StoreHealth(True, f"{self._what()} is reachable.")

    def describe(self) -> str:
        return f"S3 bucket {self.bucket} (cache {self.cache_dir})"


def open_dynamodb_stores(config) -> tuple[DynamoDBRecordStore, Any]:
    """Records in DynamoDB; media in S3, or, with no bucket configured, in the local media folder."""
    records = DynamoDBRecordStore(config.dynamodb_table)
    if config.s3_bucket:
        return records, S3BlobStore(config.s3_bucket, config.data_dir / "s3-cache")
    from core.stores.local import LocalBlobStore

    log.warning("LOUPE_S3_BUCKET is not set: media stay in %s, visible only to app servers sharing that folder",
                config.data_dir / "media")
    return records, LocalBlobStore(config.data_dir / "media")


__all__ = ["AwsConfig", "DynamoDBRecordStore", "S3BlobStore", "StoreUnavailable", "ensure_bucket", "ensure_table",
           "explain_aws_error", "make_client", "open_dynamodb_stores", "table_definition"]
