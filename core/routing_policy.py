"""A workflow's routing policy as one typed value: the accept threshold, the per-label threshold bands, and the
A2I activation conditions written from them (or imported). Pure values; `core/routing.py` applies them."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import LoupeError

DEFAULT_THRESHOLD = 0.5  # a workflow with no saved thresholds auto-accepts model labels at or above this
REVIEW_BELOW, DROP_BELOW, DROP_REVIEW_ACCEPT = "review_below", "drop_below", "drop_review_accept"
MODES = (REVIEW_BELOW, DROP_BELOW, DROP_REVIEW_ACCEPT)
LEGACY_MODES = {"two": DROP_REVIEW_ACCEPT}  # names stored before the rename; read, never written
MODE_NAMES = {REVIEW_BELOW: "One threshold: review below", DROP_BELOW: "One threshold: drop below",
              DROP_REVIEW_ACCEPT: "Two thresholds: drop / review / accept"}
CATEGORIES = ("moderation", "general")


@dataclass(frozen=True)
class Thresholds:
    """Threshold bands: a global threshold pair plus per-label overrides, for one label category."""
    high: float = 0.8  # accept at or above (0..1)
    low: float = 0.5  # drop below, in DROP_REVIEW_ACCEPT mode only (0..1)
    mode: str = REVIEW_BELOW  # one of MODES
    overrides: tuple[tuple[str, float, float], ...] = ()  # (label, low, high); low is ignored in one-threshold modes
    category: str = "moderation"  # which labels route: "moderation" or "general"

    def __post_init__(self) -> None:
        if self.mode in LEGACY_MODES:
            object.__setattr__(self, "mode", LEGACY_MODES[self.mode])
        if self.mode not in MODES:
            raise LoupeError(f"Routing mode must be one of {', '.join(MODES)}, not {self.mode!r}.")
        if self.category not in CATEGORIES:
            raise LoupeError(f"Label category must be one of {', '.join(CATEGORIES)}, not {self.category!r}.")
        for name, low, high in (("all labels", self.low, self.high), *self.overrides):
            if not (0.0 <= high <= 1.0 and 0.0 <= low <= 1.0):
                raise LoupeError(f"Thresholds for {name} must be between 0 and 1 (got {low}, {high}).")
            if self.mode == DROP_REVIEW_ACCEPT and low > high:
                raise LoupeError(f"For {name}, the drop threshold ({low:.2f}) is above the accept threshold "
                                 f"({high:.2f}); it must be at or below it.")

    @property
    def has_drop_band(self) -> bool:
        """Whether `low` matters: only the two-threshold mode drops below it and reviews between."""
        return self.mode == DROP_REVIEW_ACCEPT

    def bounds(self, low: float, high: float) -> tuple[float, float]:
        """The effective (low, high) of a threshold pair in this mode."""
        if self.mode == REVIEW_BELOW:
            return 0.0, high
        if self.mode == DROP_BELOW:
            return high, high
        return low, high

    def bands(self, label_names: Iterable[str] = ()) -> dict[str, tuple[float, float]]:
        """Effective (low, high) per label: `*` for all labels when nothing is overridden, else every name."""
        overrides = {name: self.bounds(low, high) for name, low, high in self.overrides}
        default = self.bounds(self.low, self.high)
        if not overrides:
            return {"*": default}
        return {**{name: default for name in label_names}, **overrides}

    def as_json(self) -> dict[str, Any]:
        return {"high": self.high, "low": self.low, "mode": self.mode, "category": self.category,
                "overrides": {name: {"low": low, "high": high} for name, low, high in self.overrides}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Thresholds:
        overrides = tuple((str(name), float(v.get("low", 0.0)), float(v["high"]))
                          for name, v in dict(data.get("overrides") or {}).items())
        return cls(high=float(data.get("high", 0.8)), low=float(data.get("low", 0.5)),
                   mode=str(data.get("mode", REVIEW_BELOW)), overrides=overrides,
                   category=str(data.get("category", "moderation")))


@dataclass(frozen=True)
class RoutingPolicy:
    """How a workflow picks items for people and which model labels it accepts without them."""
    accept_at: float = DEFAULT_THRESHOLD  # 0..1: model labels at or above are auto-accepted and pre-ticked on review
    # pages; for transcripts, words below it send the item to people
    thresholds: Thresholds | None = None  # per-label bands; None: routed by `conditions` only
    conditions: dict[str, Any] = field(default_factory=dict)  # A2I HumanLoopActivationConditions; {}: none

    def as_json(self) -> dict[str, Any]:
        return {"accept_at": self.accept_at, "thresholds": self.thresholds.as_json() if self.thresholds else None,
                "conditions": self.conditions}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoutingPolicy:
        thresholds = data.get("thresholds")
        return cls(accept_at=float(data.get("accept_at", DEFAULT_THRESHOLD)),
                   thresholds=Thresholds.from_json(thresholds) if thresholds else None,
                   conditions=dict(data.get("conditions") or {}))

    @classmethod
    def from_workflow_body(cls, body: Mapping[str, Any]) -> RoutingPolicy:
        """The policy of a stored workflow: the `routing` value, or the three fields kept before it existed
        (`threshold`, `thresholds`, `activation_conditions`)."""
        if "routing" in body:
            return cls.from_json(body["routing"] or {})
        return cls.from_json({"accept_at": body.get("threshold", DEFAULT_THRESHOLD),
                              "thresholds": body.get("thresholds") or None,
                              "conditions": body.get("activation_conditions") or {}})
