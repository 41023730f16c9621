"""Every stored label as compact columns, and their snapshot in the store, so routing loads a million labels from one
file plus the predictions written since instead of decoding every prediction record.

`LabelColumns` holds one row per label of a routed category (item, category, name code, confidence), items sorted by
media_id: what `core.routing` cuts into a `LabelFrame` per category. `merge` replaces the rows of items whose
prediction changed (one current prediction per item, as the store holds it) and drops deleted items.

A snapshot is an `.npz` of those columns, stored as a blob under its own sha256 (a local file written to a temp name
and renamed, or an S3 object: never half written, so another process can read it at any time), named by one pointer
record that also says which write stamp it covers (`tag`: every prediction written before it is inside) and which
predictions token it was read under. A snapshot that can't be read or doesn't check out is ignored with a warning;
routing then reads every prediction again and writes a new one, so nothing is lost.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.conditions import sample_point
from core.errors import AlreadyExists, LoupeError, NotFound, VersionConflict
from core.routing_policy import CATEGORIES
from core.stores.base import BlobStore, Record, RecordStore, S3Blobs

log = logging.getLogger(__name__)

POINTER_KIND, POINTER_KEY = "label_snapshot", "routing"
POINTER_ATTEMPTS = 5
FORMAT = 1


@dataclass(frozen=True)
class LabelColumns:
    """Every label of a routed category as arrays; items sorted by media_id, rows grouped by item in stored order."""
    media_ids: np.ndarray  # per item (object), ascending
    sample_points: np.ndarray  # per item: sample_point(media_id)
    item_start: np.ndarray  # n_items + 1 offsets into rows (int64)
    category: np.ndarray  # per row: index into CATEGORIES (int8)
    name: np.ndarray  # per row: index into names (int32)
    confidence: np.ndarray  # per row: as stored, 0..1 (float64)
    names: tuple[str, ...]  # ascending

    @property
    def n_items(self) -> int:
        return len(self.media_ids)

    @property
    def n_rows(self) -> int:
        return len(self.category)

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[str, list[dict]]]) -> LabelColumns:
        """From (media_id, stored label dicts) pairs; labels of other categories are left out."""
        pairs = sorted(raw, key=lambda pair: pair[0])
        codes = {c: i for i, c in enumerate(CATEGORIES)}
        counts: list[int] = []
        categories: list[int] = []
        names: list[str] = []
        confidences: list[float] = []
        for _, labels in pairs:
            n = 0
            for lb in labels:
                code = codes.get(lb.get("category", "general"))
                if code is not None:
                    n += 1
                    categories.append(code)
                    names.append(lb["name"])
                    confidences.append(lb["confidence"])
            counts.append(n)
        name_codes, uniques = pd.factorize(pd.Series(names, dtype=object), sort=True)
        ids = [media_id for media_id, _ in pairs]
        return cls(
            media_ids=np.asarray(ids, dtype=object),
            sample_points=np.fromiter((sample_point(m) for m in ids), dtype=np.float64, count=len(ids)),
            item_start=_offsets(np.asarray(counts, dtype=np.int64)),
            category=np.asarray(categories, dtype=np.int8),
            name=np.asarray(name_codes, dtype=np.int32),
            confidence=np.asarray(confidences, dtype=np.float64),
            names=tuple(str(u) for u in uniques),
        )

    def merge(self, changed: LabelColumns, removed: Iterable[str] = ()) -> LabelColumns:
        """These columns with the items in `changed` replaced (or added) by its rows, and the `removed` items gone."""
        removed = set(removed) - set(changed.media_ids.tolist())
        if not changed.n_items and not removed:
            return self
        drop = np.asarray(sorted(set(changed.media_ids.tolist()) | removed), dtype=object)
        keep = np.ones(self.n_items, dtype=bool)
        if self.n_items:
            pos = np.searchsorted(self.media_ids, drop)
            inside = pos < self.n_items
            hit = pos[inside][self.media_ids[pos[inside]] == drop[inside]]
            keep[hit] = False
        counts = np.diff(self.item_start)
        row_keep = np.repeat(keep, counts)
        kept_ids = self.media_ids[keep]

        names = tuple(sorted(set(self.names) | set(changed.names)))
        name_arr = np.asarray(names, dtype=object)
        own_map = np.searchsorted(name_arr, np.asarray(self.names, dtype=object)).astype(np.int32)
        new_map = np.searchsorted(name_arr, np.asarray(changed.names, dtype=object)).astype(np.int32)

        total = len(kept_ids) + changed.n_items
        new_at = np.searchsorted(kept_ids, changed.media_ids) + np.arange(changed.n_items)
        is_kept = np.ones(total, dtype=bool)
        is_kept[new_at] = False
        kept_at = np.flatnonzero(is_kept)
        ids = np.empty(total, dtype=object)
        ids[kept_at], ids[new_at] = kept_ids, changed.media_ids
        points = np.empty(total, dtype=np.float64)
        points[kept_at], points[new_at] = self.sample_points[keep], changed.sample_points
        item_counts = np.empty(total, dtype=np.int64)
        item_counts[kept_at], item_counts[new_at] = counts[keep], np.diff(changed.item_start)

        old_to_new = np.full(self.n_items, -1, dtype=np.int64)
        old_to_new[np.flatnonzero(keep)] = kept_at
        starts = _offsets(item_counts)
        # each row goes to its item's new start plus its place within the item: no sort needed
        own_item = _row_items(self)[row_keep]
        own_at = starts[old_to_new[own_item]] + (np.flatnonzero(row_keep) - self.item_start[own_item])
        new_item = _row_items(changed)
        new_rows_at = starts[new_at[new_item]] + (np.arange(changed.n_rows) - changed.item_start[new_item])
        n_rows = int(starts[-1])
        category = np.empty(n_rows, dtype=np.int8)
        name = np.empty(n_rows, dtype=np.int32)
        confidence = np.empty(n_rows, dtype=np.float64)
        category[own_at], category[new_rows_at] = self.category[row_keep], changed.category
        name[own_at], name[new_rows_at] = own_map[self.name[row_keep]], new_map[changed.name]
        confidence[own_at], confidence[new_rows_at] = self.confidence[row_keep], changed.confidence
        used = np.flatnonzero(np.bincount(name, minlength=len(names)))
        if len(used) < len(names):  # names no label carries any more: gone, as from_raw would have them
            renumber = np.zeros(len(names), dtype=np.int32)
            renumber[used] = np.arange(len(used), dtype=np.int32)
            name, names = renumber[name], tuple(names[i] for i in used)
        return LabelColumns(media_ids=ids, sample_points=points, item_start=starts, category=category, name=name,
                            confidence=confidence, names=names)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        meta = {"format": FORMAT, "categories": list(CATEGORIES), "names": list(self.names),
                "media_ids": self.media_ids.tolist()}
        np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                 sample_points=self.sample_points, item_start=self.item_start, category=self.category,
                 name=self.name, confidence=self.confidence)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LabelColumns:
        """The columns of `to_bytes`; ValueError if they are not whole and consistent."""
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes())
            arrays = {k: npz[k] for k in ("sample_points", "item_start", "category", "name", "confidence")}
        if meta.get("format") != FORMAT or meta.get("categories") != list(CATEGORIES):
            raise ValueError("written by another version")
        columns = cls(media_ids=np.asarray(meta["media_ids"], dtype=object), names=tuple(meta["names"]), **arrays)
        columns.check()
        return columns

    def check(self) -> None:
        """ValueError unless the arrays fit together (lengths, offsets, codes in range, ids ascending)."""
        n, rows = self.n_items, self.n_rows
        starts = self.item_start
        if len(self.sample_points) != n or len(starts) != n + 1 or len(self.name) != rows \
                or len(self.confidence) != rows:
            raise ValueError("column lengths differ")
        if starts[0] != 0 or starts[-1] != rows or np.any(np.diff(starts) < 0):
            raise ValueError("item offsets are broken")
        if rows and (self.category.min() < 0 or self.category.max() >= len(CATEGORIES)
                     or self.name.min() < 0 or self.name.max() >= len(self.names)):
            raise ValueError("codes out of range")
        if n > 1 and not np.all(self.media_ids[1:] > self.media_ids[:-1]):
            raise ValueError("items out of order")


def _offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _row_items(columns: LabelColumns) -> np.ndarray:
    return np.repeat(np.arange(columns.n_items, dtype=np.int64), np.diff(columns.item_start))


@dataclass(frozen=True)
class Snapshot:
    columns: LabelColumns
    tag: str  # write stamp: every prediction written before it is in the columns
    token: str  # the predictions token read before the columns were: unchanged means nothing was saved since
    sha256: str


class LabelSnapshots:
    """The current snapshot of the label columns: a pointer record naming a content-addressed blob."""

    def __init__(self, records: RecordStore, blobs: BlobStore):
        self.records = records
        self.blobs = blobs

    def load(self) -> Snapshot | None:
        """The current snapshot, or None if there is none or it is unreadable (logged; the caller rebuilds)."""
        for _ in range(2):  # once more if a writer replaced (and removed) the blob between pointer and read
            pointer = self.records.get(POINTER_KIND, POINTER_KEY)
            if pointer is None:
                return None
            sha = str(pointer.body.get("sha256", ""))
            try:
                path = self.blobs.local_path(sha)
                data = path.read_bytes()
            except (NotFound, ValueError, OSError) as exc:
                again = self.records.get(POINTER_KIND, POINTER_KEY)
                if again is not None and again.body.get("sha256") != sha:
                    continue
                log.warning("The routing snapshot %s can't be read (%s); reading every prediction instead",
                            sha[:12], exc)
                self._drop_pointer(pointer)
                return None
            if isinstance(self.blobs, S3Blobs):
                path.unlink(missing_ok=True)  # a downloaded copy: read once per process, so not worth keeping
            try:
                if hashlib.sha256(data).hexdigest() != sha:
                    raise ValueError(f"its content does not match its hash ({len(data)} bytes)")
                columns = LabelColumns.from_bytes(data)
            except Exception as exc:  # a truncated or damaged file: any error of numpy, zip or json
                log.warning("Ignoring the routing snapshot %s (%s); reading every prediction instead", sha[:12], exc)
                self._drop_pointer(pointer)
                self._forget(sha)
                return None
            return Snapshot(columns, str(pointer.body.get("tag", "")), str(pointer.body.get("token", "")), sha)
        return None

    def _drop_pointer(self, pointer: Record) -> None:
        """Forget a pointer to a snapshot that can't be read (unless a writer replaced it meanwhile)."""
        try:
            self.records.delete(POINTER_KIND, POINTER_KEY, expected_version=pointer.version)
        except LoupeError:
            pass

    def save(self, columns: LabelColumns, tag: str, token: str) -> str | None:
        """Store the columns and point at them, unless a snapshot covering a later stamp is already current.
        Returns the sha256 written (None if skipped); the snapshot it replaces is removed.

        The pointer is written on the version read (a conditional write): two writers racing never put an older
        snapshot over a newer one, and the loser reads the winner's pointer and decides again."""
        current = self.records.get(POINTER_KIND, POINTER_KEY)
        if current is not None and str(current.body.get("tag", "")) >= tag:
            return None
        data = columns.to_bytes()
        sha = hashlib.sha256(data).hexdigest()
        with tempfile.TemporaryDirectory(prefix="loupe-snapshot-") as folder:
            path = Path(folder) / sha
            path.write_bytes(data)
            self.blobs.put_file(sha, path)
        body = {"sha256": sha, "tag": tag, "token": token, "format": FORMAT, "items": columns.n_items,
                "rows": columns.n_rows, "bytes": len(data)}
        for _ in range(POINTER_ATTEMPTS):
            try:
                if current is None:
                    self.records.create(POINTER_KIND, POINTER_KEY, body)
                else:
                    self.records.put(POINTER_KIND, POINTER_KEY, body, expected_version=current.version)
                break
            except (AlreadyExists, VersionConflict):
                current = self.records.get(POINTER_KIND, POINTER_KEY)
                if current is not None and str(current.body.get("tag", "")) >= tag:  # a newer one won
                    if current.body.get("sha256") != sha:
                        self._forget(sha)
                    return None
        else:
            log.warning("The routing snapshot pointer kept changing under this write; %s is left for gc", sha[:12])
            return None
        if current is not None and current.body.get("sha256") not in ("", sha):
            self._forget(str(current.body["sha256"]))
        log.info("Wrote the routing snapshot %s: %d items, %d labels, %d bytes", sha[:12], columns.n_items,
                 columns.n_rows, len(data))
        return sha

    def current_sha256(self) -> str:
        """The blob the current snapshot is stored in ("" if none): media sweeps must keep it."""
        pointer = self.records.get(POINTER_KIND, POINTER_KEY)
        return str(pointer.body.get("sha256", "")) if pointer else ""

    def _forget(self, sha: str) -> None:
        """Remove a replaced or damaged snapshot blob; never fatal (a leftover is the media sweep's to remove)."""
        try:
            self.blobs.delete(sha)
        except Exception as exc:
            log.warning("Could not remove the old routing snapshot %s: %s", sha[:12], exc)
