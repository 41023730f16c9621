"""The team record store: records in one DynamoDB table, through boto3 (media: core/stores/s3.py; creating the
table: core/stores/aws_setup.py).

Key design (single table, see docs/team-backend.md):
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
- GSIs `by_kind_sort` (kind, so) and `by_parent_sort` (kp, so): `page(order="sort")`, where `so` = "." + sort +
  "\x01" + key (ties broken by key, as on SQLite). Items written before `so` existed are missing from these two
  until rewritten (the owner of a kind that is paged by sort rewrites them; see Catalog.prepare).
- counter items: `pk = "#counters#<name>"`, one number attribute `f:<field>` per field, changed with UpdateItem ADD
  (atomic); no `kind`, so neither the indexes nor `scan` see them.

Every call asks for ReturnConsumedCapacity; `consumed_rcu` / `consumed_wcu` sum it, for benchmarks and the logs.

Every write that can collide is a conditional write on `version`; no transactions are used (dynalite has
none). `get` reads with ConsistentRead; queries go through the indexes, which real DynamoDB updates
eventually (usually well under a second), so a record just written may show up in a list a moment later.
"""
from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from core.aws import AwsConfig, explain_aws_error
from core.errors import AlreadyExists, NotFound, StoreUnavailable, VersionConflict
from core.stores.aws_clients import error_code as _code
from core.stores.aws_clients import lazy_client as _lazy_client
from core.stores.base import Page, Record, StoreHealth, check_order, cursor_of, parse_cursor

log = logging.getLogger(__name__)

KIND_INDEX = "by_kind"
PARENT_INDEX = "by_parent"
SORT_KIND_INDEX = "by_kind_sort"
SORT_PARENT_INDEX = "by_parent_sort"
INDEXES = (KIND_INDEX, PARENT_INDEX, SORT_KIND_INDEX, SORT_PARENT_INDEX)
COUNTER_PREFIX = "#counters#"  # no record's pk starts with '#': kinds are non-empty and '#'-free
_READS = {"get_item", "batch_get_item", "query", "scan"}
_CAPACITY_OPS = _READS | {"put_item", "delete_item", "update_item", "batch_write_item"}
INLINE_BODY_BYTES = 64 * 1024  # JSON bodies larger than this are compressed; well under the 400 KB item limit
CHUNK_BYTES = 300 * 1024  # compressed slice per chunk item, leaving room for the item's other attributes
BATCH_WRITE_MAX = 25  # DynamoDB's BatchWriteItem limit
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit
MAX_UNPROCESSED_ROUNDS = 12
_BY_KIND = {"KeyConditionExpression": "#k = :h", "ExpressionAttributeNames": {"#k": "kind"}}
_MAIN_ITEMS = {"FilterExpression": "attribute_exists(#k)", "ExpressionAttributeNames": {"#k": "kind"}}  # not chunks


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
        self.consumed_rcu = 0.0  # read capacity units all calls consumed, as DynamoDB reports them
        self.consumed_wcu = 0.0

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
            if op in _CAPACITY_OPS:
                kwargs["ReturnConsumedCapacity"] = "TOTAL"
            resp = getattr(self.client, op)(**kwargs)
        except Exception as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise
            message = explain_aws_error(exc, what=self._what())
            if message:
                raise StoreUnavailable(message) from exc
            raise
        if op in _CAPACITY_OPS:
            self._count_capacity(op, resp.get("ConsumedCapacity"))
        return resp

    def _count_capacity(self, op: str, consumed: Any) -> None:
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        units = sum(float(e.get("CapacityUnits", 0) or 0) for e in entries)
        with self._lock:
            if op in _READS:
                self.consumed_rcu += units
            else:
                self.consumed_wcu += units

    # ---- items <-> records --------------------------------------------------------------------------
    def _item(self, kind: str, key: str, parent: str, version: int, updated_at: float, body: dict[str, Any],
              sort: str = "") -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The main item and its chunk items (none for a small body)."""
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        item: dict[str, Any] = {
            "pk": {"S": _pk(kind, key)}, "kind": {"S": kind}, "key": {"S": key}, "sk": {"S": "." + key},
            "parent": {"S": parent}, "kp": {"S": f"{kind}#{parent}"}, "version": {"N": str(version)},
            "so": {"S": _so(sort, key)},
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
        at = {"N": repr(time.time())}  # when written, so `orphan_chunks` never takes a write in flight
        chunk_items = [{"pk": {"S": _chunk_pk(kind, key, chunk_id, i)}, "data": {"B": piece}, "at": at}
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
        so = item.get("so", {}).get("S", "")
        sort = so[1:len(so) - len(key) - 1] if so else ""
        return Record(kind, key, body, int(item["version"]["N"]), item["parent"]["S"], float(item["updated_at"]["N"]),
                      sort)

    def _get_chunks(self, pks: list[str], *, consistent: bool) -> list[bytes] | None:
        found: dict[str, bytes] = {}
        for start in range(0, len(pks), BATCH_GET_MAX):
            keys = [{"pk": {"S": pk}} for pk in pks[start:start + BATCH_GET_MAX]]
            pending: dict[str, Any] = {self.table: {"Keys": keys,
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

    def create(self, kind: str, key: str, body: dict[str, Any], *, parent: str = "", sort: str = "") -> Record:
        now = time.time()
        item, chunks = self._item(kind, key, parent, 1, now, body, sort)
        written, _ = self._conditional_put(item, chunks, "attribute_not_exists(pk)")
        if not written:
            raise AlreadyExists(kind, key)
        return Record(kind, key, body, 1, parent, now, sort)

    def put(self, kind: str, key: str, body: dict[str, Any], *, expected_version: int, parent: str = "",
            sort: str = "") -> Record:
        now = time.time()
        item, chunks = self._item(kind, key, parent, expected_version + 1, now, body, sort)
        written, other = self._conditional_put(item, chunks, "#v = :v", {":v": {"N": str(expected_version)}})
        if not written:
            current = self._record(other, consistent=True) if other else None
            if other is not None and current is None:  # replaced again while we read it
                current = self.get(kind, key)
            raise VersionConflict(kind, key, expected_version, current.version if current else None,
                                  current.body if current else None)
        self._delete_chunks(other)
        return Record(kind, key, body, expected_version + 1, parent, now, sort)

    def put_many(self, records: Iterable[Record]) -> int:
        now = time.time()
        latest: dict[str, Record] = {}
        for r in records:
            latest[_pk(r.kind, r.key)] = r  # BatchWriteItem refuses two writes to one key in a batch; last wins
        small: list[dict[str, Any]] = []
        for r in latest.values():
            item, chunks = self._item(r.kind, r.key, r.parent, r.version, r.updated_at or now, r.body, r.sort)
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

    def delete_many(self, kind: str, keys: Iterable[str]) -> None:
        """BatchWriteItem deletes, 25 a call. A body big enough to be stored in chunk items (over 300 KB compressed)
        leaves those to `orphan_chunks` (python -m core gc): a batch delete can't return the item it removed."""
        self._batch_write([{"DeleteRequest": {"Key": {"pk": {"S": _pk(kind, key)}}}}
                           for key in dict.fromkeys(keys)])

    def query(self, kind: str, *, parent: str | None = None) -> Iterator[Record]:
        if parent is None:
            args: dict[str, Any] = {"IndexName": KIND_INDEX, **_BY_KIND,
                                    "ExpressionAttributeValues": {":h": {"S": kind}}}
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
        args = {"IndexName": KIND_INDEX, **_BY_KIND, "ExpressionAttributeValues": {":h": {"S": kind}},
                "Select": "COUNT"}
        total = 0
        start: dict[str, Any] | None = None
        while True:
            resp = self._call("query", **args, **({"ExclusiveStartKey": start} if start else {}))
            total += resp.get("Count", 0)
            start = resp.get("LastEvaluatedKey")
            if not start:
                return total

    def page(self, kind: str, *, parent: str | None = None, order: str = "key", after: str | None = None,
             limit: int = 50, descending: bool = False) -> Page:
        """One Query on an index, from the cursor on, for `limit` + 1 items (the extra one says whether a next page
        exists); more calls only when DynamoDB's 1 MB page cut it short."""
        check_order(order)
        range_attr = "sk" if order == "key" else "so"
        if parent is None:
            hash_attr, hash_value = "kind", kind
            index = KIND_INDEX if order == "key" else SORT_KIND_INDEX
        else:
            hash_attr, hash_value = "kp", f"{kind}#{parent}"
            index = PARENT_INDEX if order == "key" else SORT_PARENT_INDEX
        args: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": "#h = :h",
                                "ExpressionAttributeNames": {"#h": hash_attr},
                                "ExpressionAttributeValues": {":h": {"S": hash_value}},
                                "ScanIndexForward": not descending}
        start: dict[str, Any] | None = None
        if after:
            point = parse_cursor(after, order)
            key = point[-1]
            start = {"pk": {"S": _pk(kind, key)}, hash_attr: {"S": hash_value},
                     range_attr: {"S": "." + key if order == "key" else _so(point[0], key)}}
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            resp = self._call("query", **args, Limit=limit + 1 - len(items),
                              **({"ExclusiveStartKey": start} if start else {}))
            items.extend(resp.get("Items", []))
            start = resp.get("LastEvaluatedKey")
            if not start:
                break
        shown: list[Record] = []
        for item in items[:limit]:
            record = self._record(item, consistent=False)
            if record is None:  # replaced since the index was read: fetch the current version
                record = self.get(kind, item["key"]["S"])
            if record is not None:
                shown.append(record)
        more = len(items) > limit
        cursor = cursor_of(shown[-1], order) if more and shown else None
        return Page(tuple(shown), cursor, min(len(items), limit))

    def get_many(self, kind: str, keys: Iterable[str], *, consistent: bool = True) -> dict[str, Record]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Record] = {}
        for start in range(0, len(wanted), BATCH_GET_MAX):
            pending: dict[str, Any] = {self.table: {"Keys": [{"pk": {"S": _pk(kind, k)}}
                                                             for k in wanted[start:start + BATCH_GET_MAX]],
                                                    "ConsistentRead": consistent}}
            for attempt in range(MAX_UNPROCESSED_ROUNDS):
                resp = self._call("batch_get_item", RequestItems=pending)
                for item in resp.get("Responses", {}).get(self.table, []):
                    record = self._record(item, consistent=consistent)
                    if record is None:
                        record = self.get(kind, item["key"]["S"])
                    if record is not None:
                        found[record.key] = record
                pending = resp.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._sleep_backoff(attempt)
            else:
                raise StoreUnavailable(f"{self._what()} kept refusing reads (throttled); try again shortly.")
        return found

    def add_counts(self, name: str, deltas: Mapping[str, int]) -> None:
        """One UpdateItem with ADD per field: atomic on DynamoDB, so concurrent writers never lose an increment."""
        fields = [(field, int(delta)) for field, delta in deltas.items() if delta]
        if not fields:
            return
        names = {f"#f{i}": "f:" + field for i, (field, _) in enumerate(fields)}
        values = {f":d{i}": {"N": str(delta)} for i, (_, delta) in enumerate(fields)}
        self._call("update_item", Key={"pk": {"S": COUNTER_PREFIX + name}},
                   UpdateExpression="ADD " + ", ".join(f"#f{i} :d{i}" for i in range(len(fields))),
                   ExpressionAttributeNames=names, ExpressionAttributeValues=values)

    def counts(self, name: str) -> dict[str, int]:
        item = self._call("get_item", Key={"pk": {"S": COUNTER_PREFIX + name}}, ConsistentRead=True).get("Item") or {}
        return {attr[2:]: int(value["N"]) for attr, value in item.items() if attr.startswith("f:")}

    def set_counts(self, name: str, values: Mapping[str, int]) -> None:
        item: dict[str, Any] = {"pk": {"S": COUNTER_PREFIX + name}}
        item.update({"f:" + field: {"N": str(int(value))} for field, value in values.items()})
        self._call("put_item", Item=item)

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

    # ---- leftovers ----------------------------------------------------------------------------------
    def orphan_chunks(self, min_age_s: float) -> list[str]:
        """Keys of chunk items no record points at any more (left by a crash between writes, or by a lost race),
        written at least `min_age_s` ago, so a write still in flight keeps its chunks."""
        now = time.time()
        current: dict[str, str | None] = {}  # main pk -> the chunk id it points at
        found = []
        for item in self._pages("scan", {"FilterExpression": "attribute_not_exists(#k)",
                                         "ExpressionAttributeNames": {"#k": "kind"}}):
            pk = item["pk"]["S"]
            main_pk, marker, rest = pk.rpartition("#chunk#")
            if not marker or now - float(item.get("at", {}).get("N", "0")) < min_age_s:
                continue
            if main_pk not in current:
                main = self._call("get_item", TableName=self.table, Key={"pk": {"S": main_pk}},
                                  ConsistentRead=True).get("Item")
                current[main_pk] = main.get("chunk_id", {}).get("S") if main else None
            if current[main_pk] != rest.split("#", 1)[0]:
                found.append(pk)
        return found

    def delete_chunks(self, pks: list[str]) -> int:
        self._batch_write([{"DeleteRequest": {"Key": {"pk": {"S": pk}}}} for pk in pks])
        return len(pks)

    def check(self) -> StoreHealth:
        try:
            desc = self.client.describe_table(TableName=self.table)["Table"]
        except StoreUnavailable as exc:
            return StoreHealth(False, str(exc))
        except Exception as exc:
            return StoreHealth(False, explain_aws_error(exc, what=self._what()) or f"{self._what()}: {exc}")
        indexes = {i["IndexName"] for i in desc.get("GlobalSecondaryIndexes", [])}
        missing = set(INDEXES) - indexes
        if missing:
            return StoreHealth(False, f"{self._what()} lacks the indexes {', '.join(sorted(missing))}. Run "
                                      "`python -m core setup-aws` once: it adds them to a table made before them.")
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


def _so(sort: str, key: str) -> str:
    """The sort-index range key: "." (DynamoDB refuses empty key strings) + sort + "\x01" + key, so items order by
    (sort, key) byte-wise as SQLite orders its (sort, key) index."""
    return f".{sort}\x01{key}"


def _chunk_pk(kind: str, key: str, chunk_id: str, i: int) -> str:
    return f"{kind}#{key}#chunk#{chunk_id}#{i}"


def _bytes(value: Any) -> bytes:
    return bytes(value) if not isinstance(value, bytes) else value
