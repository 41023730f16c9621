"""Stored predictions: one current `Prediction` per media item (model output or imported), kept in bulk.

Record kind "prediction", key = media_id. Relabeling or importing replaces the item's prediction; the
record carries the model_version and source, so a result can always be traced to what made it.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.domain import Prediction, as_dict, from_dict, utc_now
from core.stores.base import Record, RecordStore

KIND = "prediction"


class Predictions:
    def __init__(self, records: RecordStore):
        self.records = records

    def save_many(self, predictions: Iterable[Prediction]) -> int:
        """Replace the predictions of these items (unversioned: predictions are written, never edited)."""
        now = utc_now()
        return self.records.put_many(
            Record(KIND, p.media_id, as_dict(p if p.created_at else _stamped(p, now)), parent=p.source)
            for p in predictions
        )

    def save(self, prediction: Prediction) -> None:
        self.save_many([prediction])

    def get(self, media_id: str) -> Prediction | None:
        rec = self.records.get(KIND, media_id)
        return from_dict(Prediction, rec.body) if rec else None

    def all(self) -> Iterator[Prediction]:
        for rec in self.records.query(KIND):
            yield from_dict(Prediction, rec.body)

    def labeled_ids(self) -> set[str]:
        return {rec.key for rec in self.records.query(KIND)}


def _stamped(p: Prediction, now: str) -> Prediction:
    from dataclasses import replace

    return replace(p, created_at=now)
