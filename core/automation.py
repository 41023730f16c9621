"""Automated labeling, as Ground Truth does it but controllable: which labels to accept without people, at a
target precision measured on people's answers, and how many items that takes away from people.

Per label, two thresholds come from the evidence on reviewed items (core.evidence's precision curve): accept at or
above the lowest confidence whose precision reaches the target, and drop below the highest confidence under which
people removed at least the target share. An item is *automated* when every label it carries is accepted or
dropped; any label in between sends it to people, as does any label without evidence enough. The audit sample
keeps reviewing some automated items, so precision stays measured.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from core.evidence import GRID_PCT, curve
from core.routing_policy import DROP_REVIEW_ACCEPT, Thresholds

MIN_EVIDENCE = 3  # labels a threshold must rest on, above it (accept) or below it (drop)


@dataclass(frozen=True)
class LabelBand:
    name: str
    drop_below: float  # 0..1; 0 = nothing dropped
    accept_at: float | None  # 0..1; None = never accepted without people


@dataclass(frozen=True)
class Automation:
    target_precision: float
    items: int  # items measured (reviewed by people)
    automated: int  # of them, items no person would have needed to see
    accepted: int  # labels accepted on automated items
    accepted_kept: int  # of them, labels people kept
    exact: int  # automated items whose accepted labels are exactly people's labels
    bands: tuple[LabelBand, ...] = ()

    @property
    def rate(self) -> float:
        return self.automated / self.items if self.items else 0.0

    @property
    def precision(self) -> float | None:
        return self.accepted_kept / self.accepted if self.accepted else None

    def as_json(self) -> dict:
        return {"target_precision": self.target_precision, "items": self.items, "automated": self.automated,
                "automation_rate": round(self.rate, 4),
                "precision": None if self.precision is None else round(self.precision, 4),
                "exact_items": self.exact}

    def thresholds(self) -> Thresholds:
        """These bands as a workflow's routing thresholds (drop / review / accept), general labels; a label with no
        band is reviewed whatever its confidence."""
        overrides = tuple((b.name, b.drop_below, 1.0 if b.accept_at is None else b.accept_at) for b in self.bands
                          if b.drop_below <= (1.0 if b.accept_at is None else b.accept_at))
        return Thresholds(high=1.0, low=0.0, mode=DROP_REVIEW_ACCEPT, overrides=overrides, category="general")


def bands(confidence: Mapping[str, Mapping[str, float]], truth: Mapping[str, frozenset[str]],
          target_precision: float) -> tuple[LabelBand, ...]:
    """Per label seen on reviewed items: its drop and accept thresholds at the target (see the module doc)."""
    rows: dict[str, tuple[list[float], list[bool]]] = {}
    for media_id, labels in confidence.items():
        if media_id not in truth:
            continue
        for name, confidence_of in labels.items():
            scores, answers = rows.setdefault(name, ([], []))
            scores.append(confidence_of * 100.0)
            answers.append(name in truth[media_id])
    out = []
    for name in sorted(rows):
        pct, kept = np.array(rows[name][0]), np.array(rows[name][1], dtype=bool)
        c = curve(pct, kept, int(kept.sum()))
        ok = c[(c["precision"] >= target_precision) & (c["accepted"] >= MIN_EVIDENCE)]
        accept_at = float(ok.iloc[0]["threshold"]) if not ok.empty else None
        drop_below = 0.0
        for t in GRID_PCT[::-1]:  # the highest threshold under which people removed >= target of the labels
            below = pct < t
            if below.sum() >= MIN_EVIDENCE and (~kept[below]).mean() >= target_precision:
                drop_below = float(t) / 100.0
                break
        if accept_at is not None and drop_below > accept_at:
            drop_below = accept_at
        out.append(LabelBand(name, drop_below, accept_at))
    return tuple(out)


def measure(confidence: Mapping[str, Mapping[str, float]], truth: Mapping[str, frozenset[str]],
            label_bands: Iterable[LabelBand], target_precision: float,
            media_ids: Iterable[str] | None = None) -> Automation:
    """Automation rate and precision of these bands on reviewed items (`media_ids` of them, or all)."""
    by_name = {b.name: b for b in label_bands}
    ids = [m for m in (media_ids if media_ids is not None else confidence) if m in truth and m in confidence]
    automated = accepted = kept = exact = 0
    for media_id in ids:
        decided: set[str] = set()
        is_automated = True
        for name, c in confidence[media_id].items():
            band = by_name.get(name)
            if band is not None and band.accept_at is not None and c >= band.accept_at:
                decided.add(name)
            elif band is None or c >= band.drop_below:
                is_automated = False
                break
        if not is_automated:
            continue
        automated += 1
        accepted += len(decided)
        kept += len(decided & truth[media_id])
        exact += decided == set(truth[media_id])
    return Automation(target_precision, len(ids), automated, accepted, kept, exact, tuple(by_name.values()))


def automation(confidence: Mapping[str, Mapping[str, float]], truth: Mapping[str, frozenset[str]],
               target_precision: float, *, fit_on: Iterable[str] | None = None,
               measure_on: Iterable[str] | None = None) -> Automation:
    """Bands from the evidence on `fit_on` (default: every reviewed item), measured on `measure_on` (default: the
    same items; give held-out ones for an unbiased figure)."""
    fit = set(fit_on) if fit_on is not None else set(truth)
    fitted = bands({m: c for m, c in confidence.items() if m in fit}, truth, target_precision)
    return measure(confidence, truth, fitted, target_precision, measure_on)
