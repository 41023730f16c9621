"""The local store: records in SQLite (WAL mode, one connection per thread) and media in a folder by hash."""
from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from core.errors import AlreadyExists, NotFound, VersionConflict, write_failed
from core.stores.base import Page, Record, StoreHealth, check_order, cursor_of, parse_cursor

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_parent ON records (kind, parent, key);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT NOT NULL,
    field TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (name, field)
) WITHOUT ROWID;
"""
# The `sort` column came later: a file written before it gets it (every record sorting as "") on open.
_SORT_SCHEMA = """
CREATE INDEX IF NOT EXISTS records_by_sort ON records (kind, sort, key);
CREATE INDEX IF NOT EXISTS records_by_parent_sort ON records (kind, parent, sort, key);
"""
_COLUMNS = "kind, key, parent, version, updated_at, body, sort"
GET_MANY_CHUNK = 500  # keys per IN (...) query, well under SQLite's variable limit


class SQLiteRecordStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        if "sort" not in {row[1] for row in conn.execute("PRAGMA table_info(records)")}:
            try:
                conn.execute("ALTER TABLE records ADD COLUMN sort TEXT NOT NULL DEFAULT ''")
            except sqlite3.OperationalError as exc:  # another process added it meanwhile
                if "duplicate column" not in str(exc).lower():
                    raise
        conn.executescript(_SORT_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._all.append((threading.current_thread(), conn))
        return conn

    def get(self, kind: str, key: str) -> Record | None:
        row = self._conn().execute(
            f"SELECT {_COLUMNS} FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        return _record(row) if row else None

    def create(self, kind: str, key: str, body: dict[str, Any], *, parent: str = "", sort: str = "") -> Record:
        now = time.time()
        try:
            with _writing(f"the {kind} record"):
                self._conn().execute(
                    "INSERT INTO records (kind, key, parent, version, updated_at, body, sort) "
                    "VALUES (?, ?, ?, 1, ?, ?, ?)",
                    (kind, key, parent, now, _dump(body), sort),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(kind, key) from None
        return Record(kind, key, body, 1, parent, now, sort)

    def put(self, kind: str, key: str, body: dict[str, Any], *, expected_version: int, parent: str = "",
            sort: str = "") -> Record:
        now = time.time()
        with _writing(f"the {kind} record"):
            cur = self._conn().execute(
                "UPDATE records SET version=version+1, updated_at=?, body=?, parent=?, sort=? "
                "WHERE kind=? AND key=? AND version=?",
                (now, _dump(body), parent, sort, kind, key, expected_version),
            )
        if cur.rowcount != 1:
            current = self.get(kind, key)
            raise VersionConflict(kind, key, expected_version, current.version if current else None,
                                  current.body if current else None)
        return Record(kind, key, body, expected_version + 1, parent, now, sort)

    def put_many(self, records: Iterable[Record]) -> int:
        now = time.time()
        rows = [(r.kind, r.key, r.parent, r.version, r.updated_at or now, _dump(r.body), r.sort) for r in records]
        with self._transaction(f"{len(rows)} record(s)") as conn:
            conn.executemany(f"INSERT OR REPLACE INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken at once, so two processes queue instead of failing to upgrade a lock)."""
        conn = self._conn()
        with _writing(what):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite has already rolled back after "disk is full"
                    conn.execute("ROLLBACK")
                raise

    def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> None:
        with _writing(f"a change (deleting a {kind} record)"):
            if expected_version is None:
                cur = self._conn().execute("DELETE FROM records WHERE kind=? AND key=?", (kind, key))
            else:
                cur = self._conn().execute(
                    "DELETE FROM records WHERE kind=? AND key=? AND version=?", (kind, key, expected_version)
                )
        if expected_version is None:
            if cur.rowcount != 1:
                raise NotFound(kind, key)
            return
        if cur.rowcount != 1:
            current = self.get(kind, key)
            if current is None:
                raise NotFound(kind, key)
            raise VersionConflict(kind, key, expected_version, current.version, current.body)

    def delete_many(self, kind: str, keys: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        with self._transaction(f"deleting {len(wanted)} {kind} record(s)") as conn:
            for start in range(0, len(wanted), GET_MANY_CHUNK):
                chunk = wanted[start:start + GET_MANY_CHUNK]
                conn.execute(f"DELETE FROM records WHERE kind=? AND key IN ({', '.join('?' * len(chunk))})",
                             [kind, *chunk])

    def query(self, kind: str, *, parent: str | None = None) -> Iterator[Record]:
        sql = f"SELECT {_COLUMNS} FROM records WHERE kind=?"
        args: tuple[str, ...] = (kind,)
        if parent is not None:
            sql += " AND parent=?"
            args = (kind, parent)
        for row in self._conn().execute(sql + " ORDER BY key", args):
            yield _record(row)

    def count(self, kind: str) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM records WHERE kind=?", (kind,)).fetchone()[0]

    def scan(self) -> Iterator[Record]:
        for row in self._conn().execute(f"SELECT {_COLUMNS} FROM records"):
            yield _record(row)

    def page(self, kind: str, *, parent: str | None = None, order: str = "key", after: str | None = None,
             limit: int = 50, descending: bool = False) -> Page:
        check_order(order)
        columns = ("key",) if order == "key" else ("sort", "key")
        sql = f"SELECT {_COLUMNS} FROM records WHERE kind=?"
        args: list[Any] = [kind]
        if parent is not None:
            sql += " AND parent=?"
            args.append(parent)
        if after:  # a row-value comparison, which SQLite answers from the (kind, [parent,] sort, key) index
            point = parse_cursor(after, order)
            sql += f" AND ({', '.join(columns)}) {'<' if descending else '>'} ({', '.join('?' * len(point))})"
            args.extend(point)
        direction = " DESC" if descending else ""
        sql += " ORDER BY " + ", ".join(c + direction for c in columns) + " LIMIT ?"
        args.append(max(0, limit) + 1)  # one more, to know whether a next page exists
        rows = [_record(row) for row in self._conn().execute(sql, args)]
        shown = tuple(rows[:limit])
        cursor = cursor_of(shown[-1], order) if len(rows) > limit and shown else None
        return Page(shown, cursor, len(shown))

    def get_many(self, kind: str, keys: Iterable[str], *, consistent: bool = True) -> dict[str, Record]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Record] = {}
        for start in range(0, len(wanted), GET_MANY_CHUNK):
            chunk = wanted[start:start + GET_MANY_CHUNK]
            sql = f"SELECT {_COLUMNS} FROM records WHERE kind=? AND key IN ({', '.join('?' * len(chunk))})"
            for row in self._conn().execute(sql, [kind, *chunk]):
                found[row[1]] = _record(row)
        return found

    def add_counts(self, name: str, deltas: Mapping[str, int]) -> None:
        rows = [(name, field, int(delta)) for field, delta in deltas.items() if delta]
        if not rows:
            return
        with self._transaction(f"the {name} counts") as conn:
            conn.executemany("INSERT INTO counters (name, field, value) VALUES (?, ?, ?) "
                             "ON CONFLICT (name, field) DO UPDATE SET value = value + excluded.value", rows)

    def counts(self, name: str) -> dict[str, int]:
        rows = self._conn().execute("SELECT field, value FROM counters WHERE name=?", (name,))
        return {field: value for field, value in rows}

    def set_counts(self, name: str, values: Mapping[str, int]) -> None:
        with self._transaction(f"the {name} counts") as conn:
            conn.execute("DELETE FROM counters WHERE name=?", (name,))
            conn.executemany("INSERT INTO counters (name, field, value) VALUES (?, ?, ?)",
                             [(name, field, int(value)) for field, value in values.items()])

    def check(self) -> StoreHealth:
        try:
            self._conn().execute("SELECT 1 FROM records LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            return StoreHealth(False, f"The SQLite file {self.path} cannot be read: {exc}.")
        return StoreHealth(True, f"SQLite at {self.path} is readable.")

    def close(self) -> None:
        """Close this thread's connection and those of threads that have ended.

        A connection another live thread holds (a background snapshot write, say) is only let go: closing it under
        that thread's running statement crashes the process (a segfault in CI), so it closes itself when its thread
        drops it.
        """
        me = threading.current_thread()
        with self._lock:
            for thread, conn in self._all:
                if thread is me or not thread.is_alive():
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    def describe(self) -> str:
        return f"SQLite at {self.path}"


@contextmanager
def _writing(what: str) -> Iterator[None]:
    """Turn SQLite's write failures (a full disk, an I/O error, a read-only file) into a WriteFailed in words."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "full" in text or "disk i/o" in text or "readonly" in text:
            log.error("SQLite could not write %s: %s", what, exc)
            raise write_failed(what, exc) from None
        raise


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _record(row: tuple) -> Record:
    kind, key, parent, version, updated_at, body, sort = row
    return Record(kind, key, json.loads(body), version, parent, updated_at, sort)


class LocalBlobStore:
    """Files under root/ab/abcdef..., written to a temp name and renamed so a crash leaves no half file."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"Not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put_file(self, sha256: str, src: Path) -> bool:
        dest = self._path(sha256)
        if dest.exists():
            return False
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            log.error("could not store media file %s: %s", sha256[:12], exc)
            tmp.unlink(missing_ok=True)  # a full disk leaves no partial file behind
            raise write_failed("the media file", exc) from None
        return True

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def open(self, sha256: str) -> BinaryIO:
        path = self._path(sha256)
        if not path.exists():
            raise NotFound("media file", sha256)
        return path.open("rb")

    def local_path(self, sha256: str) -> Path:
        path = self._path(sha256)
        if not path.exists():
            raise NotFound("media file", sha256)
        return path

    def partial_files(self, min_age_s: float) -> list[Path]:
        """Temp files a crash or a full disk left mid-copy, untouched for at least `min_age_s`."""
        return _older_than(self.root.glob("*/.*.tmp"), min_age_s)

    def stored(self, min_age_s: float) -> Iterator[tuple[str, int]]:
        """(sha256, bytes) of every stored file written at least `min_age_s` ago."""
        for path in _older_than(self.root.glob("*/*"), min_age_s):
            if len(path.name) == 64 and not path.name.startswith("."):
                yield path.name, path.stat().st_size

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def check(self) -> StoreHealth:
        if not os.access(self.root, os.W_OK):
            return StoreHealth(False, f"The media folder {self.root} is not writable.")
        return StoreHealth(True, f"The media folder {self.root} is writable.")

    def describe(self) -> str:
        return f"folder {self.root}"


def _older_than(paths: Iterable[Path], min_age_s: float) -> list[Path]:
    now = time.time()
    out = []
    for path in paths:
        try:
            if path.is_file() and now - path.stat().st_mtime >= min_age_s:
                out.append(path)
        except FileNotFoundError:  # removed meanwhile
            continue
    return out
