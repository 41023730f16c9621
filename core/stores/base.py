"""The store interface: versioned records plus content-addressed blobs.

Every backend (local SQLite + folder, DynamoDB + S3) implements `RecordStore` and `BlobStore`, and one
contract test suite (tests/contract/) runs against each. Typed access lives in the modules that own a
record kind (catalog, jobs, ...), so a backend only has to get these few operations right.

Pages and counters (for lists and counts that must not read every record): `page` returns "the next N after a
cursor" in key order or in the record's `sort` order (a second order the writer gives, e.g. created_at), with an
opaque cursor; `get_many` reads a page's related records in one call; `add_counts` / `counts` are named counters
that stay exact under concurrent writers (one atomic increment each), kept by the module that owns a record kind.

Versions: a record is created at version 1, and every `put` that names `expected_version=n` writes
version n+1 only if the stored version is still n. Otherwise it raises `VersionConflict` naming both,
and nothing is overwritten.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True)
class Record:
    kind: str  # e.g. "media", "job", "prediction"
    key: str  # unique within kind
    body: dict[str, Any]
    version: int = 1
    parent: str = ""  # groups records for `query(kind, parent=...)`, e.g. answers by loop
    updated_at: float = 0.0  # epoch seconds of the last write
    sort: str = ""  # the record's place in `page(order="sort")`, ties broken by key; "" sorts first


@dataclass(frozen=True)
class Page:
    """One page of `RecordStore.page`: the records, and the cursor to pass as `after` for the next page."""
    records: tuple[Record, ...]
    cursor: str | None  # None: nothing after this page
    read: int = 0  # records read to fill it (more than len(records) when a filter dropped some)


ORDERS = ("key", "sort")


def cursor_of(record: Record, order: str = "key") -> str:
    """The opaque cursor just after `record` in `order`: the same on every backend, so pages can be merged or cut."""
    point = [record.key] if order == "key" else [record.sort, record.key]
    return base64.urlsafe_b64encode(json.dumps(point, ensure_ascii=False).encode()).decode().rstrip("=")


def parse_cursor(cursor: str, order: str) -> tuple[str, ...]:
    """(key,) or (sort, key) from `cursor_of`; ValueError for anything else."""
    try:
        point = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise ValueError(f"Not a page cursor: {cursor!r}") from None
    if not isinstance(point, list) or len(point) != (1 if order == "key" else 2) or \
            not all(isinstance(p, str) for p in point):
        raise ValueError(f"Not a page cursor for order {order!r}: {cursor!r}")
    return tuple(point)


def check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"Unknown page order {order!r}; one of {', '.join(ORDERS)}.")


@dataclass(frozen=True)
class StoreHealth:
    """Whether a backend is usable, in plain words for the Settings page."""
    ok: bool
    message: str


class RecordStore(Protocol):
    def describe(self) -> str:
        """Where the records live, in words (Settings, `python -m core copy-store`)."""

    def get(self, kind: str, key: str) -> Record | None: ...

    def create(self, kind: str, key: str, body: dict[str, Any], *, parent: str = "", sort: str = "") -> Record:
        """Write version 1. Raises AlreadyExists if the key is taken."""

    def put(self, kind: str, key: str, body: dict[str, Any], *, expected_version: int, parent: str = "",
            sort: str = "") -> Record:
        """Write version expected_version+1 if the stored version is expected_version, else VersionConflict.

        Like `parent`, `sort` is what the new version holds: pass the old one on to keep it."""

    def put_many(self, records: Iterable[Record]) -> int:
        """Unconditional bulk upsert for records nobody edits concurrently (predictions, imports).

        Each record is stored with the version it carries. Returns how many were written.
        """

    def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> None: ...

    def delete_many(self, kind: str, keys: Iterable[str]) -> None:
        """Remove the records of these keys that exist (a missing one is no error), with no version check, in as few
        calls as the backend allows: for records nobody writes any more (a finished job's work records)."""

    def query(self, kind: str, *, parent: str | None = None) -> Iterator[Record]:
        """All records of a kind (optionally with one parent), in key order."""

    def page(self, kind: str, *, parent: str | None = None, order: str = "key", after: str | None = None,
             limit: int = 50, descending: bool = False) -> Page:
        """Up to `limit` records of a kind (optionally of one parent) after the cursor `after`, in key order or in
        (sort, key) order, ascending or descending. Reads one index range of about `limit` records, never every
        record. The cursor is `cursor_of(last record, order)`, so a caller may also cut a page short itself."""

    def get_many(self, kind: str, keys: Iterable[str], *, consistent: bool = True) -> dict[str, Record]:
        """The records of these keys that exist, by key, in as few calls as the backend allows. `consistent=False`
        may return a version a moment old, for half the read capacity on DynamoDB (what a list shows)."""

    def add_counts(self, name: str, deltas: Mapping[str, int]) -> None:
        """Add each delta to the counter `name`'s field, atomically per field (exact under concurrent writers,
        across processes); a field or counter never written starts at 0."""

    def counts(self, name: str) -> dict[str, int]:
        """The counter's fields ({} if it was never written)."""

    def set_counts(self, name: str, values: Mapping[str, int]) -> None:
        """Replace the counter's fields (after a recount)."""

    def count(self, kind: str) -> int: ...

    def scan(self) -> Iterator[Record]:
        """Every record of every kind, in no particular order (migration between backends)."""

    def check(self) -> StoreHealth:
        """Is the backend reachable and usable? Never raises."""

    def close(self) -> None: ...


class BlobStore(Protocol):
    """Media bytes stored once by sha256."""

    def put_file(self, sha256: str, src: Path) -> bool:
        """Store src under its hash. Returns False if it was already there (a duplicate)."""

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def local_path(self, sha256: str) -> Path:
        """A local file with the content, for decoders that need a path (fetched to a cache if remote)."""

    def describe(self) -> str: ...

    def check(self) -> StoreHealth:
        """Is the media store reachable and usable? Never raises."""

    def delete(self, sha256: str) -> None:
        """Remove a blob (a missing one is no error): what `python -m core gc` and a replaced snapshot need."""

    def partial_files(self, min_age_s: float) -> list[Path]:
        """Local temporary files of writes or downloads that never finished, at least min_age_s old."""

    def stored(self, min_age_s: float) -> Iterator[tuple[str, int]]:
        """(sha256, size) of every stored blob at least min_age_s old, for the media sweep."""


@runtime_checkable
class S3Blobs(BlobStore, Protocol):
    """A media store in an S3 bucket: its objects can be named to AWS services (Rekognition reads them there), and
    what is read through `local_path` is a downloaded copy in `cache_dir`."""
    bucket: str
    prefix: str
    cache_dir: Path


@runtime_checkable
class ChunkedRecords(RecordStore, Protocol):
    """A record store that splits big bodies into chunk items (DynamoDB's 400 KB item limit), which a crash between
    writes can leave behind."""

    def orphan_chunks(self, min_age_s: float) -> list[str]:
        """Keys of chunk items no record points at any more, written at least min_age_s ago."""

    def delete_chunks(self, pks: list[str]) -> int: ...


def update_record(records: RecordStore, kind: str, key: str, change: Callable[[dict[str, Any]], dict[str, Any]],
                  *, what: str, attempts: int = 5) -> dict[str, Any]:
    """Read, change and write one record, retrying on a newer version. Returns the body written.

    For fields the system sets (a status), where the newest version is always the right base; edits people
    make must instead surface `VersionConflict` to them.
    """
    from core.errors import LoupeError, NotFound, VersionConflict

    for _ in range(attempts):
        rec = records.get(kind, key)
        if rec is None:
            raise NotFound(what, key)
        body = change(rec.body)
        try:
            records.put(kind, key, body, expected_version=rec.version, parent=rec.parent, sort=rec.sort)
            return body
        except VersionConflict:
            continue
    raise LoupeError(f"Could not update {what} {key[:16]}: it kept changing. Try again.")
