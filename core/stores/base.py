"""The store interface: versioned records plus content-addressed blobs.

Every backend (local SQLite + folder, DynamoDB + S3) implements `RecordStore` and `BlobStore`, and one
contract test suite (tests/contract/) runs against each. Typed access lives in the modules that own a
record kind (catalog, jobs, ...), so a backend only has to get these few operations right.

Versions: a record is created at version 1, and every `put` that names `expected_version=n` writes
version n+1 only if the stored version is still n. Otherwise it raises `VersionConflict` naming both,
and nothing is overwritten.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol


@dataclass(frozen=True)
class Record:
    kind: str  # e.g. "media", "job", "prediction"
    key: str  # unique within kind
    body: dict[str, Any]
    version: int = 1
    parent: str = ""  # groups records for `query(kind, parent=...)`, e.g. answers by loop
    updated_at: float = 0.0  # epoch seconds of the last write


@dataclass(frozen=True)
class StoreHealth:
    """Whether a backend is usable, in plain words for the Settings page."""
    ok: bool
    message: str


class RecordStore(Protocol):
    def get(self, kind: str, key: str) -> Record | None: ...

    def create(self, kind: str, key: str, body: dict[str, Any], *, parent: str = "") -> Record:
        """Write version 1. Raises AlreadyExists if the key is taken."""

    def put(self, kind: str, key: str, body: dict[str, Any], *, expected_version: int, parent: str = "") -> Record:
        """Write version expected_version+1 if the stored version is expected_version, else VersionConflict."""

    def put_many(self, records: Iterable[Record]) -> int:
        """Unconditional bulk upsert for records nobody edits concurrently (predictions, imports).

        Each record is stored with the version it carries. Returns how many were written.
        """

    def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> None: ...

    def query(self, kind: str, *, parent: str | None = None) -> Iterator[Record]:
        """All records of a kind (optionally with one parent), in key order."""

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
            records.put(kind, key, body, expected_version=rec.version, parent=rec.parent)
            return body
        except VersionConflict:
            continue
    raise LoupeError(f"Could not update {what} {key[:16]}: it kept changing. Try again.")
