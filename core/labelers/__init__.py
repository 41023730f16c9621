"""Labelers: models that say what is in an image, behind one small interface, and the registry of them.

A labeler answers `predict(images) -> predictions`: one `core.domain.Prediction` per image, each holding
general labels (Rekognition DetectLabels style) and moderation labels (DetectModerationLabels style),
with confidence 0..1 and the model_version that made them. "local" is bundled and works offline;
"rekognition" calls AWS through boto3.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.config import Config
from core.domain import Prediction
from core.errors import LoupeError


@dataclass(frozen=True)
class ImageRef:
    """An image to label: its media id and where its bytes are (a local path, bytes, or an S3 object)."""
    media_id: str
    path: Path | None = None
    data: bytes | None = None
    s3_bucket: str = ""
    s3_key: str = ""

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is not None:
            return Path(self.path).read_bytes()
        raise LoupeError(f"Image {self.media_id[:12]} has no local bytes to read.")


class LabelingFailed(LoupeError):
    """One image could not be labeled; the message says why in plain words. Other images go on."""


@runtime_checkable
class Labeler(Protocol):
    name: str
    model_version: str

    def predict(self, images: Sequence[ImageRef]) -> list[Prediction | LabelingFailed]:
        """One entry per image, in order: its prediction, or the error that stopped it."""
        ...


def _local(config: Config) -> Labeler:
    from core.labelers.local import LocalLabeler

    return LocalLabeler(cache_dir=config.data_dir / "models", workers=config.model_threads or None)


def _rekognition(config: Config) -> Labeler:
    from core.labelers.rekognition import RekognitionLabeler

    return RekognitionLabeler()


LABELERS: dict[str, Callable[[Config], Labeler]] = {"local": _local, "rekognition": _rekognition}


def available() -> tuple[str, ...]:
    return tuple(LABELERS)


def create(name: str, config: Config) -> Labeler:
    """Build the named labeler (this loads its models: call it once per process and keep it)."""
    if name not in LABELERS:
        raise LoupeError(f"Unknown labeler {name!r}: choose one of {', '.join(LABELERS)}.")
    return LABELERS[name](config)
