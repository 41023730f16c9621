"""Rekognition's DetectLabels and DetectModerationLabels response JSON, to and from Loupe's labels.

AWS uses PascalCase and confidence 0-100; Loupe keeps 0..1 inside core, so the conversion happens here
and nowhere else. Readers also accept camelCase keys, which A2I's own JSON uses for the same fields.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.domain import BoundingBox, Instance, Label, Prediction

MODERATION = "moderation"
GENERAL = "general"


def _pct(confidence: float) -> float:
    return round(max(0.0, min(1.0, confidence)) * 100.0, 4)


def _get(obj: dict[str, Any], key: str, default: Any = None) -> Any:
    """A field by its PascalCase name, or the camelCase spelling A2I uses."""
    if key in obj:
        return obj[key]
    return obj.get(key[:1].lower() + key[1:], default)


# ---- writing ----------------------------------------------------------------------------------------
def to_detect_labels(labels: Iterable[Label], model_version: str = "") -> dict[str, Any]:
    """A DetectLabels response body: `Labels` (most confident first) and `LabelModelVersion`."""
    out: list[dict[str, Any]] = []
    for lb in labels:
        if lb.category != GENERAL:
            continue
        out.append({
            "Name": lb.name,
            "Confidence": _pct(lb.confidence),
            "Instances": [{"BoundingBox": {"Width": i.box.width, "Height": i.box.height, "Left": i.box.left,
                                           "Top": i.box.top}, "Confidence": _pct(i.confidence)} for i in lb.instances],
            "Parents": [{"Name": p} for p in lb.parents],
            "Aliases": [],
            "Categories": [],
        })
    out.sort(key=lambda d: -d["Confidence"])
    return {"Labels": out, "LabelModelVersion": model_version}


def to_detect_moderation_labels(labels: Iterable[Label], model_version: str = "") -> dict[str, Any]:
    """A DetectModerationLabels response body: `ModerationLabels` and `ModerationModelVersion`."""
    out: list[dict[str, Any]] = [{"Confidence": _pct(lb.confidence), "Name": lb.name, "ParentName": lb.parent_name,
            "TaxonomyLevel": lb.taxonomy_level or (2 if lb.parent_name else 1)}
           for lb in labels if lb.category == MODERATION]
    out.sort(key=lambda d: -d["Confidence"])
    return {"ModerationLabels": out, "ModerationModelVersion": model_version}


# ---- reading ----------------------------------------------------------------------------------------
def parse_detect_labels(response: dict[str, Any]) -> list[Label]:
    labels = []
    for item in _get(response, "Labels", []) or []:
        instances = []
        for inst in _get(item, "Instances", []) or []:
            box = _get(inst, "BoundingBox", {}) or {}
            instances.append(Instance(
                box=BoundingBox(left=float(_get(box, "Left", 0.0)), top=float(_get(box, "Top", 0.0)),
                                width=float(_get(box, "Width", 0.0)), height=float(_get(box, "Height", 0.0))),
                confidence=float(_get(inst, "Confidence", 0.0)) / 100.0, label=str(_get(item, "Name", ""))))
        labels.append(Label(name=str(_get(item, "Name", "")), confidence=float(_get(item, "Confidence", 0.0)) / 100.0,
                            parents=tuple(str(_get(p, "Name", "")) for p in _get(item, "Parents", []) or []),
                            instances=tuple(instances), category=GENERAL))
    return labels


def parse_detect_moderation_labels(response: dict[str, Any]) -> list[Label]:
    labels = []
    for item in _get(response, "ModerationLabels", []) or []:
        parent = str(_get(item, "ParentName", "") or "")
        level = _get(item, "TaxonomyLevel")
        labels.append(Label(name=str(_get(item, "Name", "")), confidence=float(_get(item, "Confidence", 0.0)) / 100.0,
                            category=MODERATION, parent_name=parent,
                            taxonomy_level=int(level) if level is not None else (2 if parent else 1)))
    return labels


RESPONSE_KEYS = ("Labels", "labels", "ModerationLabels", "moderationLabels", "moderation_labels")


def looks_like_rekognition(data: Any) -> bool:
    """A DetectLabels / DetectModerationLabels response, or a `python -m core label --json` line."""
    return isinstance(data, dict) and any(k in data for k in RESPONSE_KEYS)


def parse_response(data: dict[str, Any], media_id: str, *, source: str = "import",
                   model_version: str = "") -> Prediction:
    """Either response (or one object holding both, as `python -m core label --json` writes) as a Prediction."""
    moderation = data if "moderation_labels" not in data else {"ModerationLabels": data["moderation_labels"]}
    labels = parse_detect_labels(data) + parse_detect_moderation_labels(moderation)
    versions = [str(v) for v in (_get(data, "LabelModelVersion"), _get(data, "ModerationModelVersion")) if v]
    version = str(data.get("model_version") or "") or (f"rekognition {'/'.join(versions)}" if versions else "")
    return Prediction(media_id=media_id, model_version=version or model_version or source, labels=tuple(labels),
                      source=source)


def to_label_json(prediction: Prediction, file_name: str = "") -> dict[str, Any]:
    """The CLI's per-image object: media_id, file, DetectLabels `Labels`, `ModerationLabels`, model_version."""
    return {
        "media_id": prediction.media_id,
        "file": file_name,
        "labels": to_detect_labels(prediction.labels)["Labels"],
        "moderation_labels": to_detect_moderation_labels(prediction.labels)["ModerationLabels"],
        "model_version": prediction.model_version,
    }
