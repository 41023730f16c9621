"""ImageNet class probabilities as Rekognition-like labels: each class's own name, plus parent labels
(Cat, Mammal, Animal) whose confidence is the summed probability of the classes beneath them.

The table is data/imagenet_labels.json, derived once from WordNet by scripts/derive_imagenet_labels.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from core.domain import Label

DATA = Path(__file__).resolve().parent / "data" / "imagenet_labels.json"


@dataclass(frozen=True)
class LabelHierarchy:
    class_names: tuple[str, ...]  # per ImageNet class id
    parents: dict[str, tuple[str, ...]]  # label name -> its parent label names, most specific first
    members: tuple[np.ndarray, np.ndarray]  # (label index, class id) pairs: which classes add up into each label
    label_names: tuple[str, ...]

    def labels(self, probabilities: np.ndarray, *, min_confidence: float = 0.1, max_labels: int = 15) -> list[Label]:
        """General labels for one image's 1000 class probabilities, most confident first."""
        # A sparse sum (2,786 pairs), not a [1082 x 1000] matrix product: BLAS would bring its own threads, which
        # spin after every call and cost the labeler's one-image-per-core threads a third more CPU (bench_cluster).
        rows, cols = self.members
        sums = np.bincount(rows, weights=probabilities[cols].astype(np.float64), minlength=len(self.label_names))
        scores = np.clip(sums.astype(np.float32), 0.0, 1.0)
        order = np.argsort(-scores, kind="stable")
        out = []
        for i in order[:max_labels]:
            if scores[i] < min_confidence:
                break
            name = self.label_names[i]
            out.append(Label(name=name, confidence=round(float(scores[i]), 6), parents=self.parents.get(name, ())))
        return out


@cache
def load(path: Path = DATA) -> LabelHierarchy:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    classes = sorted(data["classes"], key=lambda c: c["id"])
    names = tuple(c["name"] for c in classes)
    parents = tuple(tuple(c["parents"]) for c in classes)
    label_names = tuple(dict.fromkeys([*names, *(p for ps in parents for p in ps)]))
    index = {n: i for i, n in enumerate(label_names)}
    pairs = sorted({(index[n], cid) for cid, (name, ps) in enumerate(zip(names, parents)) for n in (name, *ps)})
    members = (np.array([r for r, _ in pairs], dtype=np.intp), np.array([c for _, c in pairs], dtype=np.intp))
    parent_map = {k: tuple(v) for k, v in data["categories"].items()}
    for name, ps in zip(names, parents):
        if name not in data["categories"]:
            parent_map[name] = tuple(dict.fromkeys(parent_map.get(name, ()) + ps))
    return LabelHierarchy(names, parent_map, members, label_names)
