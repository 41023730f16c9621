"""Stored predictions: one current `Prediction` per media item (model output or imported), kept in bulk.

Record kind "prediction", key = media_id. Relabeling or importing replaces the item's prediction; the
record carries the model_version and source, so a result can always be traced to what made it.

Every write carries a write stamp as its `sort` (epoch seconds, fixed width), so `changed_since` reads only what was
written after a point, from the sort index, on either store; a deleted prediction leaves a stamped tombstone for the
same reason. Routing keeps a snapshot of every label (core/label_snapshots.py) and reads only that delta.

Every save also lists the label names it holds (core/label_names.py), so the names are known without reading
predictions.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator

from core import changes
from core.domain import Prediction, as_dict, from_dict, utc_now
from core.errors import NotFound
from core.label_names import LabelNames
from core.stores.base import Record, RecordStore, cursor_of

KIND = "prediction"
STAMP_KIND = "prediction_stamp"  # one record, rewritten by every save, so caches can tell predictions changed
TOMBSTONE_KIND = "prediction_deleted"  # key media_id, sort = when its prediction was deleted
WRITE_BATCH = 1000  # predictions stamped and written together: a stamp is never older than one batch's write
DELTA_PAGE = 1000


def write_stamp(at_s: float | None = None) -> str:
    """A point in write order: epoch seconds, zero-padded to a fixed width so that strings sort as times do."""
    return f"{time.time() if at_s is None else at_s:020.6f}"


class Predictions:
    def __init__(self, records: RecordStore, label_names: LabelNames | None = None):
        self.records = records
        self.label_names = label_names or LabelNames(records)

    def save_many(self, predictions: Iterable[Prediction]) -> int:
        """Replace the predictions of these items (unversioned: predictions are written, never edited).

        Written in batches, each stamped just before it is written, so that a long import on DynamoDB never lands
        records whose stamp is minutes older than their write (see `changed_since`). Then lists their label names
        (after the predictions: a crash between the two is mended by `python -m core recount`)."""
        now = utc_now()
        written = 0
        batch: list[Prediction] = []
        names: set[str] = set()
        for p in predictions:
            names.update(lb.name for lb in p.labels)
            batch.append(p if p.created_at else _stamped(p, now))
            if len(batch) >= WRITE_BATCH:
                written += self._write(batch)
                batch = []
        if batch:
            written += self._write(batch)
        self._changed(now)
        self.label_names.note(names)
        return written

    def _write(self, batch: list[Prediction]) -> int:
        stamp = write_stamp()
        written = self.records.put_many(Record(KIND, p.media_id, _body(p), parent=p.source, sort=stamp) for p in batch)
        changes.mark(self.records, predicted=sorted({p.media_id for p in batch}))  # Results refreshes reviewed ones
        return written

    def _changed(self, now: str) -> None:
        self.records.put_many([Record(STAMP_KIND, "latest", {"token": uuid.uuid4().hex, "saved_at": now})])

    def delete(self, media_id: str) -> None:
        """Remove an item's prediction (NotFound if it has none), leaving a tombstone for readers of deltas."""
        if self.records.get(KIND, media_id) is None:
            raise NotFound("prediction", media_id)
        self.records.put_many([Record(TOMBSTONE_KIND, media_id, {"media_id": media_id}, sort=write_stamp())])
        try:
            self.records.delete(KIND, media_id)
        finally:
            changes.mark(self.records, predicted=[media_id])
            self._changed(utc_now())

    def changed_since(self, stamp: str) -> tuple[list[tuple[str, list[dict]]], set[str]]:
        """What changed at or after a write stamp: (media_id, stored labels) of every prediction written since, and
        the ids whose prediction was deleted since and is still gone. Reads the sort index from `stamp` on only."""
        written = {rec.key: rec.body.get("labels") or [] for rec in self._since(KIND, stamp)}
        deleted = {rec.key for rec in self._since(TOMBSTONE_KIND, stamp)} - written.keys()
        if deleted:  # a tombstone may predate a save that brought the item back
            back = self.records.get_many(KIND, deleted)
            written.update({key: rec.body.get("labels") or [] for key, rec in back.items()})
            deleted -= back.keys()
        return sorted(written.items()), deleted

    def _since(self, kind: str, stamp: str) -> Iterator[Record]:
        after: str | None = cursor_of(Record(kind, "", {}, sort=stamp), "sort")
        while after:
            page = self.records.page(kind, order="sort", after=after, limit=DELTA_PAGE)
            yield from page.records
            after = page.cursor

    def save(self, prediction: Prediction) -> None:
        self.save_many([prediction])

    def get(self, media_id: str) -> Prediction | None:
        rec = self.records.get(KIND, media_id)
        return from_dict(Prediction, rec.body) if rec else None

    def get_many(self, media_ids: Iterable[str], *, consistent: bool = True) -> dict[str, Prediction]:
        """media_id -> prediction, for these items only (key reads; see RecordStore.get_many for `consistent`)."""
        return {k: from_dict(Prediction, r.body)
                for k, r in self.records.get_many(KIND, media_ids, consistent=consistent).items()}

    def all(self) -> Iterator[Prediction]:
        for rec in self.records.query(KIND):
            yield from_dict(Prediction, rec.body)

    def for_media(self, media_ids: set[str]) -> dict[str, Prediction]:
        """media_id -> prediction, for these items, in one read (decoding only theirs)."""
        return {rec.key: from_dict(Prediction, rec.body) for rec in self.records.query(KIND) if rec.key in media_ids}

    def count(self) -> int:
        return self.records.count(KIND)

    def signature(self) -> str:
        """Different after any save (a token rewritten by every save_many); one key read, cheap on any store."""
        stamp = self.records.get(STAMP_KIND, "latest")
        return str(stamp.body.get("token", "")) if stamp else ""

    def raw_labels(self) -> Iterator[tuple[str, list[dict]]]:
        """(media_id, its labels as stored dicts) for every item, skipping dataclasses: fast for bulk routing."""
        for rec in self.records.query(KIND):
            yield rec.key, rec.body.get("labels") or []

    def labeled_ids(self) -> set[str]:
        return {rec.key for rec in self.records.query(KIND)}


def _body(p: Prediction) -> dict:
    """The stored form: embeddings live in their own records (core.embeddings), so routing reads stay small."""
    body = as_dict(p)
    body.pop("embedding", None)
    return body


def _stamped(p: Prediction, now: str) -> Prediction:
    from dataclasses import replace

    return replace(p, created_at=now)
