"""Threshold routing: which labels and items are accepted automatically, sent to people, or dropped.

Every stored label is one row of a `LabelFrame` (numpy arrays, loaded once per process from a snapshot plus the
predictions written since, see core/label_snapshots.py, and cached until the predictions change), so moving a
threshold re-routes a million labels in milliseconds.

A label's band, for its thresholds low <= high (0..1), compared in percent exactly as A2I conditions are:
- accept: confidence >= high
- review: low <= confidence < high
- drop:   confidence < low
One-threshold modes are the same rule with low = 0 ("review below", nothing dropped) or low = high ("drop
below", nothing reviewed). `item_bands` is the one function that defines an item's routing.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from core.catalog import Catalog
from core.conditions import ConditionsError, LabelScore, conditions_from_bands, sample_point, threshold_percent
from core.domain import Workflow
from core.errors import NotFound
from core.label_snapshots import LabelColumns, LabelSnapshots
from core.predictions import Predictions, write_stamp
from core.routing_policy import CATEGORIES, DROP_REVIEW_ACCEPT, RoutingPolicy, Thresholds

log = logging.getLogger(__name__)

ACCEPT, REVIEW, DROP = 0, 1, 2
BANDS = ("accept", "review", "drop")


@dataclass(frozen=True)
class LabelFrame:
    """All stored labels of one category as arrays; rows are grouped by item (item_start offsets)."""
    media_ids: np.ndarray  # per item (object)
    sample_points: np.ndarray  # per item, in [0, 100): the deterministic Sampling draw
    item: np.ndarray  # per row: item index
    label: np.ndarray  # per row: index into label_names
    confidence_pct: np.ndarray  # per row: confidence * 100.0
    label_names: tuple[str, ...]
    item_start: np.ndarray  # len(media_ids)+1 offsets into rows

    @property
    def n_items(self) -> int:
        return len(self.media_ids)

    @property
    def n_rows(self) -> int:
        return len(self.item)

    def rows_of(self, item_index: int) -> slice:
        return slice(int(self.item_start[item_index]), int(self.item_start[item_index + 1]))

    def label_scores(self, item_index: int) -> list[LabelScore]:
        rows = self.rows_of(item_index)
        return [LabelScore(self.label_names[c], float(p)) for c, p in zip(self.label[rows], self.confidence_pct[rows])]

    def index_of(self, media_id: str) -> int | None:
        found = np.flatnonzero(self.media_ids == media_id)
        return int(found[0]) if len(found) else None


def build_frames(raw: Iterable[tuple[str, list[dict]]]) -> dict[str, LabelFrame]:
    """A LabelFrame per category from (media_id, stored label dicts) pairs, in one pass over the store.

    Every item appears in every category's frame, with no rows where it has no labels of that category.
    """
    media_ids: list[str] = []
    counts: dict[str, list[int]] = {c: [] for c in CATEGORIES}
    names: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    confidences: dict[str, list[float]] = {c: [] for c in CATEGORIES}
    for media_id, labels in raw:
        media_ids.append(media_id)
        seen = dict.fromkeys(CATEGORIES, 0)
        for lb in labels:
            category = lb.get("category", "general")
            if category in seen:
                seen[category] += 1
                names[category].append(lb["name"])
                confidences[category].append(lb["confidence"])
        for category, n in seen.items():
            counts[category].append(n)
    ids = np.asarray(media_ids, dtype=object)
    points = np.fromiter((sample_point(m) for m in media_ids), dtype=np.float64, count=len(media_ids))
    frames = {}
    for category in CATEGORIES:
        codes, uniques = pd.factorize(pd.Series(names[category], dtype=object), sort=True)
        count_arr = np.asarray(counts[category], dtype=np.int64)
        frames[category] = LabelFrame(
            media_ids=ids, sample_points=points,
            item=np.repeat(np.arange(len(media_ids), dtype=np.int32), count_arr),
            label=np.asarray(codes, dtype=np.int32),
            confidence_pct=np.asarray(confidences[category], dtype=np.float64) * 100.0,
            label_names=tuple(str(u) for u in uniques),
            item_start=np.concatenate([[0], np.cumsum(count_arr)]).astype(np.int64),
        )
    return frames


@dataclass(frozen=True)
class Routed:
    """The outcome of routing a frame under a policy: per-row and per-item bands plus the audit slice."""
    frame: LabelFrame
    thresholds: Thresholds
    audit_percent: float
    low_pct: np.ndarray  # per label name
    high_pct: np.ndarray  # per label name
    label_band: np.ndarray  # per row: ACCEPT / REVIEW / DROP
    item_band: np.ndarray  # per item
    is_audit: np.ndarray  # per item: auto-accepted, but sampled for people

    @property
    def needs_people(self) -> np.ndarray:
        return (self.item_band == REVIEW) | self.is_audit

    @cached_property
    def _counts(self) -> dict[str, dict[str, int]]:
        labels = np.bincount(self.label_band, minlength=3)
        items = np.bincount(self.item_band, minlength=3)
        return {
            "labels": {b: int(labels[i]) for i, b in enumerate(BANDS)},
            "items": {**{b: int(items[i]) for i, b in enumerate(BANDS)}, "audit": int(self.is_audit.sum()),
                      "to_people": int(self.needs_people.sum())},
        }

    def counts(self) -> dict[str, dict[str, int]]:
        """Labels and items per band (items also: the audit sample and everything that goes to people)."""
        return self._counts

    def per_label(self) -> pd.DataFrame:
        """One row per label name: its effective thresholds and how many of its labels land in each band."""
        n = len(self.frame.label_names)
        table = np.bincount(self.frame.label.astype(np.int64) * 3 + self.label_band, minlength=3 * n).reshape(n, 3)
        return pd.DataFrame({"label": list(self.frame.label_names), "low": self.low_pct / 100.0,
                             "high": self.high_pct / 100.0, "accept": table[:, 0], "review": table[:, 1],
                             "drop": table[:, 2]})

    def histogram(self, bin_pct: float = 2.0) -> pd.DataFrame:
        """Label counts per confidence bin (percent) and band, pre-binned so a chart never sees a million rows."""
        n_bins = int(round(100.0 / bin_pct))
        bins = np.minimum((self.frame.confidence_pct / bin_pct).astype(np.int64), n_bins - 1)
        table = np.bincount(bins * 3 + self.label_band, minlength=3 * n_bins)
        cells = np.flatnonzero(table)  # bin-major, band-minor: already in chart order
        starts = (cells // 3) * bin_pct
        return pd.DataFrame({"start_pct": starts, "end_pct": starts + bin_pct,
                             "band": np.asarray(BANDS, dtype=object)[cells % 3], "labels": table[cells]})

    def items(self, *, band: str | None = None, label: str | None = None, limit: int = 200) -> tuple[pd.DataFrame, int]:
        """Items filtered by band ("audit" too) and by a label they carry; the first `limit` rows and the total."""
        mask = np.ones(self.frame.n_items, dtype=bool)
        if band == "audit":
            mask &= self.is_audit
        elif band in BANDS:
            mask &= self.item_band == BANDS.index(band)
        if label:
            code = _label_code(self.frame, label)
            has = np.zeros(self.frame.n_items, dtype=bool)
            if code is not None:
                has[self.frame.item[self.frame.label == code]] = True
            mask &= has
        picked = np.flatnonzero(mask)
        rows = [self.describe_item(int(i)) for i in picked[:limit]]
        columns = ["media_id", "band", "audit", "labels", "lowest_pct"]
        return pd.DataFrame(rows, columns=columns), int(len(picked))

    def describe_item(self, index: int) -> dict[str, Any]:
        rows = self.frame.rows_of(index)
        pcts = self.frame.confidence_pct[rows].tolist()
        names = [self.frame.label_names[c] for c in self.frame.label[rows].tolist()]
        ranked = sorted(zip(pcts, names), key=lambda t: -t[0])
        return {"media_id": self.frame.media_ids[index], "band": BANDS[self.item_band[index]],
                "audit": bool(self.is_audit[index]),
                "labels": ", ".join(f"{name} {pct:.1f}%" for pct, name in ranked),
                "lowest_pct": min(pcts) if pcts else None}

    def split(self, index: int) -> dict[str, list[tuple[str, float]]]:
        """One item's labels by band, highest confidence first: the seed's worked example."""
        rows = self.frame.rows_of(index)
        out: dict[str, list[tuple[str, float]]] = {b: [] for b in BANDS}
        for code, pct, b in sorted(zip(self.frame.label[rows], self.frame.confidence_pct[rows], self.label_band[rows]),
                                   key=lambda t: -t[1]):
            out[BANDS[b]].append((self.frame.label_names[code], float(pct)))
        return out

    def reasons(self, index: int) -> tuple[str, ...]:
        """Labels that send an item to people: those in review, or for an audit item, those accepted."""
        wanted = ACCEPT if self.is_audit[index] else REVIEW
        rows = self.frame.rows_of(index)
        return tuple(self.frame.label_names[c] for c, b in zip(self.frame.label[rows], self.label_band[rows])
                     if b == wanted)


def _label_code(frame: LabelFrame, name: str) -> int | None:
    i = int(np.searchsorted(np.asarray(frame.label_names, dtype=object), name)) if frame.label_names else 0
    return i if i < len(frame.label_names) and frame.label_names[i] == name else None


def threshold_arrays(frame: LabelFrame, thresholds: Thresholds) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per label name, in percent, with overrides applied."""
    low_g, high_g = thresholds.bounds(thresholds.low, thresholds.high)
    n = len(frame.label_names)
    low = np.full(n, threshold_percent(low_g))
    high = np.full(n, threshold_percent(high_g))
    for name, lo, hi in thresholds.overrides:
        code = _label_code(frame, name)
        if code is not None:
            eff_lo, eff_hi = thresholds.bounds(lo, hi)
            low[code], high[code] = threshold_percent(eff_lo), threshold_percent(eff_hi)
    return low, high


def label_bands(confidence_pct: np.ndarray, low_pct: np.ndarray, high_pct: np.ndarray) -> np.ndarray:
    """ACCEPT at or above high, REVIEW from low up to high, DROP below low (arrays of equal length)."""
    band = np.full(len(confidence_pct), DROP, dtype=np.int8)
    band[confidence_pct >= low_pct] = REVIEW
    band[confidence_pct >= high_pct] = ACCEPT
    return band


def item_bands(item: np.ndarray, label_band: np.ndarray, n_items: int) -> np.ndarray:
    """An item's routing: REVIEW if any of its labels needs review; else ACCEPT if any label is accepted;
    else DROP (every label fell below its threshold, or it has none of the routed category)."""
    has_review = np.zeros(n_items, dtype=bool)
    has_accept = np.zeros(n_items, dtype=bool)
    has_review[item[label_band == REVIEW]] = True
    has_accept[item[label_band == ACCEPT]] = True
    return np.where(has_review, REVIEW, np.where(has_accept, ACCEPT, DROP)).astype(np.int8)


def route(frame: LabelFrame, thresholds: Thresholds, audit_percent: float = 0.0) -> Routed:
    """Route every label and item; `audit_percent` of auto-accepted items also go to people (deterministically)."""
    low, high = threshold_arrays(frame, thresholds)
    band = label_bands(frame.confidence_pct, low[frame.label], high[frame.label])
    items = item_bands(frame.item, band, frame.n_items)
    is_audit = (items == ACCEPT) & (frame.sample_points < audit_percent)
    return Routed(frame, thresholds, audit_percent, low, high, band, items, is_audit)


def conditions_for(thresholds: Thresholds, label_names: Iterable[str], audit_percent: float = 0.0) -> dict[str, Any]:
    """A2I activation conditions that route exactly as these thresholds do (ConditionsError if too long)."""
    return conditions_from_bands(thresholds.bands(label_names), audit_percent)


def share_curve(frame: LabelFrame, thresholds: Thresholds, audit_percent: float,
                grid: Iterable[float] = tuple(np.round(np.arange(0.0, 1.0001, 0.05), 4))) -> pd.DataFrame:
    """Share of items that go to people as the global accept threshold moves (overrides held as they are)."""
    out = []
    for t in grid:
        low = min(thresholds.low, t)
        routed = route(frame, replace(thresholds, high=float(t), low=low), audit_percent)
        out.append({"threshold": float(t), "share": float(routed.needs_people.mean()) if frame.n_items else 0.0,
                    "items_to_people": int(routed.needs_people.sum())})
    return pd.DataFrame(out)


def frames_of(columns: LabelColumns) -> dict[str, LabelFrame]:
    """A LabelFrame per category from the label columns: the same frames `build_frames` makes from the records."""
    row_item = np.repeat(np.arange(columns.n_items, dtype=np.int32), np.diff(columns.item_start))
    frames = {}
    for code, category in enumerate(CATEGORIES):
        rows = columns.category == code
        names = columns.name[rows]
        used = np.flatnonzero(np.bincount(names, minlength=len(columns.names)))
        renumber = np.zeros(len(columns.names), dtype=np.int32)
        renumber[used] = np.arange(len(used), dtype=np.int32)
        item = row_item[rows]
        frames[category] = LabelFrame(
            media_ids=columns.media_ids, sample_points=columns.sample_points, item=item, label=renumber[names],
            confidence_pct=columns.confidence[rows] * 100.0,
            label_names=tuple(columns.names[i] for i in used),
            item_start=np.concatenate([[0], np.cumsum(np.bincount(item, minlength=columns.n_items))]).astype(np.int64),
        )
    return frames


SNAPSHOT_MARGIN_S = 120.0  # a write stamp may precede its write by this much (a batch's write time, clock skew)


class Router:
    """Routing over the stored predictions, with the label frame cached per category until predictions change.

    The frames come from the label columns, loaded once per process from the store's snapshot (core/label_snapshots)
    plus the predictions written since it; after a save, only what was written since the last load is read. The
    snapshot is rewritten (in a background thread) after a full read, or once the changes read on top of it grow
    past `rewrite_after` items."""

    def __init__(self, predictions: Predictions, catalog: Catalog, snapshots: LabelSnapshots | None = None, *,
                 rewrite_after: int = 5000, rewrite_share: float = 0.05, margin_s: float = SNAPSHOT_MARGIN_S):
        self.predictions = predictions
        self.margin_s = margin_s
        self.catalog = catalog
        self.snapshots = snapshots
        self.rewrite_after = rewrite_after
        self.rewrite_share = rewrite_share
        self._lock = threading.Lock()
        self._signature: str | None = None
        self._columns: LabelColumns | None = None
        self._tag = ""  # write stamp the columns cover
        self._unsaved = 0  # items changed on top of the stored snapshot
        self._writer: threading.Thread | None = None
        self._frames: dict[str, LabelFrame] = {}
        self._share_cache: dict[tuple, tuple[LabelFrame, pd.DataFrame]] = {}

    def frames(self) -> dict[str, LabelFrame]:
        """The label frame of each category, re-read from the store only when the predictions changed."""
        signature = self.predictions.signature()
        with self._lock:
            if signature != self._signature or not self._frames:
                started = time.perf_counter()
                how = self._refresh(signature)
                columns = self._columns
                assert columns is not None  # _refresh reads them
                self._frames = frames_of(columns)
                self._signature = signature
                log.info("Loaded %d predictions for routing (%s) in %.2f s",
                         columns.n_items, how, time.perf_counter() - started)
            return self._frames

    def _refresh(self, signature: str) -> str:
        """Bring the columns up to date with the store; says how (for the log)."""
        tag = write_stamp(time.time() - self.margin_s)  # taken before anything is read
        base, base_tag = self._columns, self._tag
        how = "changes since the last load"
        if base is None and self.snapshots is not None:
            snapshot = self.snapshots.load()
            if snapshot is not None:  # even under an unchanged token, the changes are read (an index may have lagged)
                base, base_tag, how = snapshot.columns, snapshot.tag, "snapshot"
                self._unsaved = 0
        if base is None:
            self._columns, self._tag, self._unsaved = LabelColumns.from_raw(self.predictions.raw_labels()), tag, 0
            self._save_later(self._columns, tag, signature)
            return "every prediction"
        written, deleted = self.predictions.changed_since(base_tag)
        self._columns = base.merge(LabelColumns.from_raw(written), deleted)
        self._tag = tag
        self._unsaved += len(written) + len(deleted)
        if self._unsaved >= max(self.rewrite_after, self.rewrite_share * self._columns.n_items):
            self._save_later(self._columns, tag, signature)
            self._unsaved = 0
        return f"{how} + {len(written)} changed, {len(deleted)} deleted"

    def _save_later(self, columns: LabelColumns, tag: str, token: str) -> None:
        if self.snapshots is None or (self._writer is not None and self._writer.is_alive()):
            return
        self._writer = threading.Thread(target=self._save, args=(columns, tag, token), name="label-snapshot",
                                        daemon=True)
        self._writer.start()

    def _save(self, columns: LabelColumns, tag: str, token: str) -> None:
        if self.snapshots is None:
            return
        try:
            self.snapshots.save(columns, tag, token)
        except Exception:  # the next load reads more, nothing worse
            log.exception("Could not write the routing snapshot")

    def wait_for_snapshot(self, timeout_s: float = 60.0) -> None:
        """Until a snapshot write started by a load has finished (tests, benchmarks, shutdown)."""
        writer = self._writer
        if writer is not None:
            writer.join(timeout_s)

    def frame(self, category: str) -> LabelFrame:
        return self.frames()[category]

    def categories_present(self) -> list[str]:
        """The label categories with any label, image labels first (what the Thresholds page opens on), then the
        others by name: the order labels happened to be read in would open it on moderation after the demo."""
        return sorted((c for c, frame in self.frames().items() if frame.n_rows), key=lambda c: (c != "general", c))

    def route(self, thresholds: Thresholds, audit_percent: float = 0.0) -> Routed:
        return route(self.frame(thresholds.category), thresholds, audit_percent)

    def share_curve(self, frame: LabelFrame, thresholds: Thresholds, audit_percent: float = 0.0) -> pd.DataFrame:
        """Share of items to people as the global threshold moves; cached, since moving it doesn't change it."""
        cache_key = (thresholds.category, thresholds.mode,
                     thresholds.low if thresholds.mode == DROP_REVIEW_ACCEPT else None,
                     thresholds.overrides, audit_percent)
        with self._lock:
            cached_frame, cached = self._share_cache.get(cache_key, (None, None))
        if cached_frame is not frame or cached is None:  # the frame is held in the cache: its identity isn't reused
            cached = share_curve(frame, thresholds, audit_percent)
            with self._lock:
                if len(self._share_cache) > 32:
                    self._share_cache.clear()
                self._share_cache[cache_key] = (frame, cached)
        return cached

    def display_names(self, media_ids: Iterable[str]) -> dict[str, str]:
        """File names of media items, for tables; imported predictions without media show their id."""
        names = {}
        for media_id in media_ids:
            try:
                names[media_id] = self.catalog.get(media_id).file_name
            except NotFound:
                names[media_id] = ""
        return names

def workflow_with_thresholds(wf: Workflow, thresholds: Thresholds, label_names: Iterable[str]) -> Workflow:
    """A workflow carrying these thresholds and the conditions written from them (none if too long for A2I)."""
    try:
        conditions = conditions_for(thresholds, label_names, wf.audit_percent)
    except ConditionsError as exc:
        log.warning("Workflow %s keeps thresholds only: %s", wf.name, exc)
        conditions = {}
    return replace(wf, routing=RoutingPolicy(accept_at=thresholds.high, thresholds=thresholds, conditions=conditions))
