"""SageMaker Ground Truth output manifests: multi-label classification and object detection lines, and box units.

Rekognition boxes are fractions of the image; Ground Truth boxes are whole pixels. `box_to_pixels` and
`box_from_pixels` are the one place that converts between them.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from core.domain import BoundingBox
from core.errors import LoupeError

MULTILABEL_TYPE = "groundtruth/image-classification-multilabel"
DETECTION_TYPE = "groundtruth/object-detection"


def box_to_pixels(box: BoundingBox, width: int, height: int) -> dict[str, int]:
    """Fractions -> Ground Truth pixels (left/top/width/height), clipped to the image."""
    left = min(max(0, round(box.left * width)), width)
    top = min(max(0, round(box.top * height)), height)
    return {"left": left, "top": top, "width": min(round(box.width * width), width - left),
            "height": min(round(box.height * height), height - top)}


def box_from_pixels(box: dict[str, Any], width: int, height: int) -> BoundingBox:
    if width <= 0 or height <= 0:
        raise LoupeError("The image size is unknown, so pixel boxes can't be converted to fractions.")
    return BoundingBox(box["left"] / width, box["top"] / height, box["width"] / width, box["height"] / height)


def creation_date(iso: str = "") -> str:
    """Ground Truth's timestamp form: `2020-02-27T21:36:25.000201` (UTC, no zone suffix)."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else datetime.now(UTC)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def check_attribute(attr: str) -> str:
    if not attr or "-metadata" in attr or attr.endswith("-ref"):
        raise LoupeError(f"{attr!r} can't be a Ground Truth attribute name: it may not contain '-metadata' "
                         "or end in '-ref'.")
    return attr


def manifest_line(source_ref: str, attr: str, labels: list[tuple[str, float]], class_ids: dict[str, int], *,
                  is_human: bool, created_at: str = "", boxes: Sequence[tuple[str, BoundingBox, float]] = (),
                  image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """One output-manifest line: `<attr>` multi-label classes, and `<attr>-bbox` boxes when there are any."""
    check_attribute(attr)
    date = creation_date(created_at)
    human = "yes" if is_human else "no"
    ids = [class_ids[name] for name, _ in labels]
    line: dict[str, Any] = {
        "source-ref": source_ref,
        attr: ids,
        f"{attr}-metadata": {
            "job-name": f"labeling-job/{attr}",
            "class-map": {str(class_ids[n]): n for n, _ in labels},
            "human-annotated": human,
            "creation-date": date,
            "confidence-map": {str(class_ids[n]): round(float(c), 4) for n, c in labels},
            "type": MULTILABEL_TYPE,
        },
    }
    if boxes and image_size:
        width, height = image_size
        box_attr = f"{attr}-bbox"
        line[box_attr] = {
            "image_size": [{"width": width, "height": height, "depth": 3}],
            "annotations": [{"class_id": class_ids[name], **box_to_pixels(box, width, height)}
                            for name, box, _ in boxes],
        }
        line[f"{box_attr}-metadata"] = {
            "objects": [{"confidence": round(float(c), 4)} for _, _, c in boxes],
            "class-map": {str(class_ids[n]): n for n, _, _ in boxes},
            "type": DETECTION_TYPE,
            "human-annotated": human,
            "creation-date": date,
            "job-name": f"labeling-job/{box_attr}",
        }
    return line


def parse_manifest_line(line: dict[str, Any], attr: str) -> tuple[str, list[str], list[tuple[str, dict[str, int]]]]:
    """(source-ref, class names, [(class name, pixel box)]) from an output-manifest line; LoupeError if malformed."""
    try:
        meta = line[f"{attr}-metadata"]
        names = [meta["class-map"][str(i)] for i in line[attr]]
        boxes = []
        if f"{attr}-bbox" in line:
            bmap = line[f"{attr}-bbox-metadata"]["class-map"]
            boxes = [(bmap[str(a["class_id"])], {k: a[k] for k in ("left", "top", "width", "height")})
                     for a in line[f"{attr}-bbox"]["annotations"]]
        return line["source-ref"], names, boxes
    except (KeyError, TypeError) as exc:
        raise LoupeError(f"Not a Ground Truth output-manifest line for attribute {attr!r}: missing {exc}.") from exc
