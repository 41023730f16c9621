"""Image embeddings: the labeler's pooled features for each image, kept beside its prediction for team models.

One record per image (kind "embedding", key media_id): the vector as float16 bytes in base64 (1280 values are
3.4 kB of text, far under DynamoDB's 400 KB item limit), the labeler version that computed it, and the base model's
own label confidences (general and moderation apart), so a team model can always be trained and re-applied from
what the base model said, even after the stored prediction was replaced by a team model's.
"""
from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from core.stores.base import Record, RecordStore

KIND = "embedding"


def encode(vector: np.ndarray) -> str:
    """A float vector as base64 of little-endian float16 (half the bytes of float32; ample for a linear model)."""
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)


@dataclass(frozen=True)
class Embedding:
    media_id: str
    vector: str  # encode()d
    base_version: str  # the labeler's model_version that computed it
    base_labels: dict[str, float] = field(default_factory=dict)  # general label -> the base model's confidence
    base_moderation: dict[str, float] = field(default_factory=dict)  # moderation label -> its confidence

    def as_array(self) -> np.ndarray:
        return decode(self.vector)


class Embeddings:
    def __init__(self, records: RecordStore):
        self.records = records

    def save_many(self, embeddings: Iterable[Embedding]) -> int:
        return self.records.put_many(
            Record(KIND, e.media_id, {"vector": e.vector, "base_version": e.base_version,
                                      "base_labels": dict(e.base_labels),
                                      "base_moderation": dict(e.base_moderation)}) for e in embeddings)

    def get(self, media_id: str) -> Embedding | None:
        rec = self.records.get(KIND, media_id)
        return _from_record(rec) if rec else None

    def get_many(self, media_ids: Iterable[str]) -> dict[str, Embedding]:
        """The embeddings of these items that exist, in as few store calls as the backend allows."""
        return {key: _from_record(rec) for key, rec in self.records.get_many(KIND, sorted(set(media_ids))).items()}

    def all(self) -> Iterator[Embedding]:
        for rec in self.records.query(KIND):
            yield _from_record(rec)

    def count(self) -> int:
        return self.records.count(KIND)


def _from_record(rec: Record) -> Embedding:
    body = rec.body
    return Embedding(rec.key, str(body.get("vector", "")), str(body.get("base_version", "")),
                     {str(k): float(v) for k, v in (body.get("base_labels") or {}).items()},
                     {str(k): float(v) for k, v in (body.get("base_moderation") or {}).items()})
