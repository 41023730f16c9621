"""Stored predictions: one current `Prediction` per media item (model output or imported), kept in bulk.

Record kind "prediction", key = media_id. Relabeling or importing replaces the item's prediction; the
record carries the model_version and source, so a result can always be traced to what made it.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

from core.domain import Prediction, as_dict, from_dict, utc_now
from core.stores.base import Record, RecordStore

KIND = "prediction"
STAMP_KIND = "prediction_stamp"  # one record, rewritten by every save, so caches can tell predictions changed


class Predictions:
    def __init__(self, records: RecordStore):
        self.records = records

    def save_many(self, predictions: Iterable[Prediction]) -> int:
        """Replace the predictions of these items (unversioned: predictions are written, never edited)."""
        now = utc_now()
        written = self.records.put_many(
            Record(KIND, p.media_id, _body(p if p.created_at else _stamped(p, now)), parent=p.source)
            for p in predictions
        )
        self.records.put_many([Record(STAMP_KIND, "latest", {"token": uuid.uuid4().hex, "saved_at": now})])
        return written

    def save(self, prediction: Prediction) -> None:
        self.save_many([prediction])

    def get(self, media_id: str) -> Prediction | None:
        rec = self.records.get(KIND, media_id)
        return from_dict(Prediction, rec.body) if rec else None

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
