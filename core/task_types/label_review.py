"""The label review task: reviewers keep the model's right labels, add missing ones, and draw boxes."""
from __future__ import annotations

from typing import Any

from core.domain import BoundingBox
from core.task_types.spec import LABELS, TaskType


def label_review_content(kept: list[tuple[str, float]], added: list[str], boxes_px: list[dict[str, Any]],
                         image_size: tuple[int, int], *, is_blind: bool) -> dict[str, Any]:
    """answerContent of the label review page: kept model labels, labels people added (confidence 1, "human"),
    and boxes in fractions of the image (from source pixels). A label's boxes go with it: a box whose label the
    answer does not hold (a model label the reviewer unticked) is left out."""
    width, height = image_size
    names = {n for n, _ in kept}
    labels = [{"name": n, "confidence": round(c, 4), "source": "model"} for n, c in kept]
    labels += [{"name": n.strip(), "confidence": 1.0, "source": "human"} for n in added
               if n.strip() and n.strip() not in names]
    out_boxes = []
    chosen = {lb["name"] for lb in labels}
    for b in boxes_px:
        if str(b.get("label", "")) not in chosen:
            continue
        left, top = max(0.0, b["left"] / width), max(0.0, b["top"] / height)
        w, h = min(b["width"] / width, 1 - left), min(b["height"] / height, 1 - top)
        if w > 0 and h > 0:
            out_boxes.append({"label": str(b.get("label", "")), "left": round(left, 6), "top": round(top, 6),
                              "width": round(w, 6), "height": round(h, 6)})
    return {"labels": labels, "boxes": out_boxes, "isBlind": is_blind}


def orphan_box_labels(kept: list[tuple[str, float]], added: list[str], boxes_px: list[dict[str, Any]]) -> list[str]:
    """The labels of boxes that label_review_content would leave out, because their label is not ticked or added
    (shown to the reviewer before submitting)."""
    chosen = {n for n, _ in kept} | {a.strip() for a in added}
    return sorted({str(b.get("label", "")) for b in boxes_px} - chosen)


def read_labels(content: dict[str, Any]) -> dict[str, str]:
    """Label name -> parent name of the `labels` list of an answerContent."""
    out: dict[str, str] = {}
    for item in content.get("labels", []) or []:
        name = str(item.get("name", "")).strip()
        if name:
            out[name] = str(item.get("parentName", "") or "")
    return out


def read_boxes(content: dict[str, Any]) -> list[tuple[str, BoundingBox]]:
    """(label, box in fractions of the image) of every box an answer drew."""
    return [(str(b.get("label", "")),
             BoundingBox(float(b["left"]), float(b["top"]), float(b["width"]), float(b["height"])))
            for b in content.get("boxes", []) or []]


SPEC = TaskType(name="label_review", title="Label review", page="pages/label_review.py", label_category="general",
                routes_by=LABELS, build_answer=label_review_content, read_labels=read_labels, reviews_boxes=True)
