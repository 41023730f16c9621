"""The Results view's data: each item's final labels (human or auto), agreement among people and with the model,
and the speech model's accuracy on the transcripts people reviewed."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from core.agreement import (AgreementReport, BlindComparison, TranscriptAccuracy, compare_blind, measure,
                            transcript_accuracy)
from core.consolidation import final_labels
from core.domain import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from core.service import Service

T = TypeVar("T")


@dataclass(frozen=True)
class ItemResult:
    media_id: str
    file_name: str
    human_labels: tuple[str, ...]  # consolidated decisions of people
    auto_labels: tuple[str, ...]  # the model's, at or above the threshold, on labels nobody reviewed
    reviewers: tuple[str, ...]
    confidence: float | None  # consolidation confidence (None: not reviewed)
    boxes: int
    workflow: str


def item_results(service: "Service", *, workflow: str | None = None, limit: int = 1000) -> list[ItemResult]:
    """Reviewed items first (newest consolidation first), then auto-accepted ones."""
    workflows = {wf.name: wf for wf in service.workflows.list()}
    consolidated = sorted((c for c in service.consolidation.all() if workflow is None or c.workflow == workflow),
                          key=lambda c: c.updated_at, reverse=True)
    media = {m.media_id: m for m in service.catalog.list()}
    out = []
    for c in consolidated[:limit]:
        threshold = workflows[c.workflow].threshold if c.workflow in workflows else DEFAULT_THRESHOLD
        finals = final_labels(service.predictions.get(c.media_id), c, threshold)
        item = media.get(c.media_id)
        out.append(ItemResult(c.media_id, item.file_name if item else c.media_id[:12],
                              tuple(f.name for f in finals if f.source == "human"),
                              tuple(f.name for f in finals if f.source == "auto"), c.reviewers, c.confidence,
                              len(c.boxes), c.workflow))
    return out


def agreement_report(service: "Service", *, workflow: str | None = None) -> AgreementReport:
    loops = service.loops.list(workflow)
    ids = {lp.loop_id for lp in loops}
    media_ids = {lp.media_id for lp in loops}
    answers = [a for a in service.answers.all() if a.loop_id in ids]
    consolidated = [c for c in service.consolidation.all() if c.media_id in media_ids]
    predictions = {p.media_id: p for p in service.predictions.all() if p.media_id in media_ids}
    threshold = service.workflows.get(workflow).threshold if workflow else DEFAULT_THRESHOLD
    return measure(answers, loops, consolidated, predictions, threshold)


def blind_comparison(service: "Service", *, workflow: str | None = None) -> BlindComparison:
    loops = service.loops.list(workflow)
    ids = {lp.loop_id for lp in loops}
    answers = [a for a in service.answers.all() if a.loop_id in ids and "isBlind" in a.content]
    if not answers:
        return BlindComparison(0, None, 0, None)
    media_ids = {lp.media_id for lp in loops}
    predictions = {p.media_id: p for p in service.predictions.all() if p.media_id in media_ids}
    threshold = service.workflows.get(workflow).threshold if workflow else DEFAULT_THRESHOLD
    return compare_blind(answers, loops, predictions, threshold)


def transcript_report(service: "Service", *, workflow: str | None = None) -> TranscriptAccuracy:
    """1 - WER of the model's transcript against the reviewed version, over every reviewed transcript (or those of
    the workflow's loops)."""
    transcripts = service.transcripts
    reviewed = {rec.key for rec in service.records.query("transcript_head") if rec.body.get("reviewed_number", 0) > 0}
    if workflow is not None:
        reviewed &= {lp.media_id for lp in service.loops.list(workflow)}
    wers = (transcripts.word_error_rate(m) for m in sorted(reviewed))
    return transcript_accuracy(w for w in wers if w is not None)


class Results:
    """The Results page's figures, kept until an answer, a loop or a consolidation changes (they read everything)."""

    def __init__(self, service: "Service"):
        self.service = service
        self._memo: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def _signature(self) -> tuple:
        records = self.service.records
        return (*(records.count(k) for k in ("answer", "loop", "consolidated", "prediction", "transcript_head")),
                self.service.consolidation.generation, self.service.transcripts.generation)

    def _cached(self, name: str, workflow: str | None, compute: Callable[[], T]) -> T:
        key = (name, workflow, self._signature())
        with self._lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._memo = {k: v for k, v in self._memo.items() if k[2] == key[2]}
            self._memo[key] = value
        return value

    def items(self, *, workflow: str | None = None) -> list[ItemResult]:
        return self._cached("items", workflow, lambda: item_results(self.service, workflow=workflow))

    def agreement(self, *, workflow: str | None = None) -> AgreementReport:
        return self._cached("agreement", workflow, lambda: agreement_report(self.service, workflow=workflow))

    def blind(self, *, workflow: str | None = None) -> BlindComparison:
        return self._cached("blind", workflow, lambda: blind_comparison(self.service, workflow=workflow))

    def transcripts(self, *, workflow: str | None = None) -> TranscriptAccuracy:
        return self._cached("transcripts", workflow, lambda: transcript_report(self.service, workflow=workflow))
