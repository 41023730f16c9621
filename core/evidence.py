"""Evidence for choosing thresholds: precision, recall and F1 of auto-accept, review load, and recommendations.

Everything here is a pure function of the routing frame and the people's answers:
- `truth` maps a reviewed media_id to the label names people accepted (consolidated answers). Only reviewed
  items count, so precision is honest only if some items above the threshold were reviewed too: that is
  what the audit sample is for.
- A model label is *auto-accepted* at threshold t when its confidence is >= t. It is a true positive when
  people kept that label on that item. Precision = true positives / auto-accepted; recall = true positives /
  the labels people kept on reviewed items (of the names this category knows), so a label the model scored
  below t, or missed, counts against recall.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.routing import LabelFrame, Routed

ALL_LABELS = "(all labels)"
GRID_PCT = np.round(np.arange(0.0, 100.0 + 1e-9, 1.0), 6)  # thresholds evaluated for curves, in percent
ASSUMED_SECONDS_PER_TASK = 30.0  # used for reviewer-minutes until people have submitted timed answers


@dataclass(frozen=True)
class ReviewedRows:
    """The model's labels on reviewed items: one row per label, and the count of people's labels per name."""
    rows: pd.DataFrame  # label, confidence_pct, correct
    positives: dict[str, int]  # label name -> reviewed items where people kept it

    @property
    def reviewed_items(self) -> int:
        return int(self.rows.attrs.get("reviewed_items", 0))


def reviewed_rows(frame: LabelFrame, truth: Mapping[str, frozenset[str]]) -> ReviewedRows:
    """Join the frame's labels with people's answers, for the items people reviewed."""
    known = set(frame.label_names)
    reviewed = np.fromiter((m in truth for m in frame.media_ids), dtype=bool, count=frame.n_items)
    row_mask = reviewed[frame.item]
    items = frame.item[row_mask]
    labels = frame.label[row_mask]
    correct = np.fromiter((frame.label_names[c] in truth[frame.media_ids[i]] for i, c in zip(items, labels)),
                          dtype=bool, count=len(items))
    rows = pd.DataFrame({"label": [frame.label_names[c] for c in labels],
                         "confidence_pct": frame.confidence_pct[row_mask], "correct": correct})
    rows.attrs["reviewed_items"] = int(reviewed.sum())
    positives: dict[str, int] = {}
    for media_id in frame.media_ids[reviewed]:
        for name in truth[media_id]:
            if name in known:
                positives[name] = positives.get(name, 0) + 1
    return ReviewedRows(rows, positives)


def curve(confidence_pct: np.ndarray, correct: np.ndarray, positives: int,
          grid_pct: np.ndarray = GRID_PCT) -> pd.DataFrame:
    """Precision, recall and F1 of accepting labels at or above each threshold in `grid_pct`."""
    order = np.argsort(confidence_pct, kind="stable")
    sorted_pct = confidence_pct[order]
    correct_after = np.concatenate([np.cumsum(correct[order][::-1])[::-1], [0]])  # correct labels from index i up
    first = np.searchsorted(sorted_pct, grid_pct, side="left")  # first label with confidence >= threshold
    accepted = len(sorted_pct) - first
    true_pos = correct_after[first]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(accepted > 0, true_pos / np.maximum(accepted, 1), np.nan)
        recall = np.where(positives > 0, true_pos / max(positives, 1), np.nan)
        f1 = np.where((precision + recall) > 0, 2 * precision * recall / (precision + recall), 0.0)
    f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
    return pd.DataFrame({"threshold": grid_pct / 100.0, "precision": precision, "recall": recall, "f1": f1,
                         "accepted": accepted, "true_positives": true_pos})


def label_curves(reviewed: ReviewedRows, grid_pct: np.ndarray = GRID_PCT) -> pd.DataFrame:
    """One curve per label name seen on reviewed items, plus the pooled curve under ALL_LABELS."""
    frames = []
    rows = reviewed.rows
    names = sorted(set(rows["label"]) | set(reviewed.positives))
    for name in names:
        part = rows[rows["label"] == name]
        c = curve(part["confidence_pct"].to_numpy(), part["correct"].to_numpy(), reviewed.positives.get(name, 0),
                  grid_pct)
        frames.append(c.assign(label=name))
    pooled = curve(rows["confidence_pct"].to_numpy(), rows["correct"].to_numpy(), sum(reviewed.positives.values()),
                   grid_pct)
    frames.append(pooled.assign(label=ALL_LABELS))
    return pd.concat(frames, ignore_index=True)


def current_metrics(routed: Routed, reviewed: ReviewedRows) -> pd.DataFrame:
    """Precision/recall/F1 per label and overall at the current (per-label) accept thresholds."""
    rows = reviewed.rows
    high = dict(zip(routed.frame.label_names, routed.high_pct))
    accepted = rows["confidence_pct"].to_numpy() >= rows["label"].map(high).to_numpy(dtype=float)
    out = []
    for name, part in [*((n, rows["label"] == n) for n in sorted(set(rows["label"]) | set(reviewed.positives))),
                       (ALL_LABELS, np.ones(len(rows), dtype=bool))]:
        mask = np.asarray(part, dtype=bool)
        acc = int((accepted & mask).sum())
        tp = int((accepted & mask & rows["correct"].to_numpy()).sum())
        pos = sum(reviewed.positives.values()) if name == ALL_LABELS else reviewed.positives.get(name, 0)
        precision = tp / acc if acc else float("nan")
        recall = tp / pos if pos else float("nan")
        f1 = (2 * precision * recall / (precision + recall)) if acc and pos and (precision + recall) else float("nan")
        threshold = high.get(name, float("nan")) / 100.0
        out.append({"label": name, "threshold": threshold, "precision": precision, "recall": recall, "f1": f1,
                    "accepted": acc, "true_positives": tp, "kept_by_people": pos})
    return pd.DataFrame(out)


def median_seconds_per_task(times_s: Iterable[float]) -> float | None:
    """The median measured time a reviewer spent on a task (A2I's timeSpentInSeconds); None without data."""
    measured = [t for t in times_s if t and t > 0]
    return statistics.median(measured) if measured else None


@dataclass(frozen=True)
class ReviewLoad:
    items_to_people: int
    items_total: int
    reviewer_minutes: float
    seconds_per_task: float
    is_measured: bool  # False: seconds_per_task is ASSUMED_SECONDS_PER_TASK

    @property
    def share(self) -> float:
        return self.items_to_people / self.items_total if self.items_total else 0.0


def review_load(items_to_people: int, items_total: int, task_count: int, seconds_per_task: float | None) -> ReviewLoad:
    """Reviewer-minutes implied: every routed item is done by `task_count` people."""
    seconds = seconds_per_task if seconds_per_task is not None else ASSUMED_SECONDS_PER_TASK
    return ReviewLoad(items_to_people, items_total, items_to_people * task_count * seconds / 60.0, seconds,
                      seconds_per_task is not None)


def recommend(curves: pd.DataFrame, routed: Routed, target_precision: float, *, task_count: int = 1,
              seconds_per_task: float | None = None, min_accepted: int = 1) -> pd.DataFrame:
    """Per label, the lowest threshold whose measured precision reaches the target, and the review it costs.

    The review load is counted over all stored labels of that name (not only reviewed ones): how many would
    fall below the recommended threshold (and above the label's drop threshold) and so go to people.
    """
    seconds = seconds_per_task if seconds_per_task is not None else ASSUMED_SECONDS_PER_TASK
    frame = routed.frame
    out = []
    for name, part in curves[curves["label"] != ALL_LABELS].groupby("label", sort=True):
        ok = part[(part["precision"] >= target_precision) & (part["accepted"] >= min_accepted)]
        code = _code(frame, str(name))
        if ok.empty:
            out.append({"label": name, "recommended": None, "precision": None, "recall": None,
                        "labels_to_review": None, "reviewer_minutes": None,
                        "note": f"no threshold reaches {target_precision:.0%} on reviewed items"})
            continue
        best = ok.iloc[0]
        to_review = 0
        if code is not None:
            pct = frame.confidence_pct[frame.label == code]
            low_pct = routed.low_pct[code] if routed.thresholds.has_drop_band else 0.0
            to_review = int(((pct >= low_pct) & (pct < best["threshold"] * 100.0)).sum())
        out.append({"label": name, "recommended": float(best["threshold"]), "precision": float(best["precision"]),
                    "recall": float(best["recall"]) if pd.notna(best["recall"]) else None,
                    "labels_to_review": to_review, "reviewer_minutes": to_review * task_count * seconds / 60.0,
                    "note": ""})
    return pd.DataFrame(out, columns=["label", "recommended", "precision", "recall", "labels_to_review",
                                      "reviewer_minutes", "note"])


def _code(frame: LabelFrame, name: str) -> int | None:
    try:
        return frame.label_names.index(name)
    except ValueError:
        return None
