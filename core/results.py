"""The Results view's data: each item's final labels (human or auto), agreement among people and with the model,
and the speech model's accuracy on the transcripts people reviewed."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from core.agreement import (AgreementReport, BlindComparison, TranscriptAccuracy, compare_blind, measure,
                            transcript_accuracy)
from core.answers import Answers
from core.catalog import Catalog
from core.consolidation import Consolidation, final_labels
from core.loops import Loops
from core.predictions import Predictions
from core.routing_policy import DEFAULT_THRESHOLD
from core.transcripts import Transcripts
from core.workflows import Workflows

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


def item_results(workflows: Workflows, consolidation: Consolidation, catalog: Catalog, predictions: Predictions, *,
                 workflow: str | None = None, limit: int = 1000) -> list[ItemResult]:
    """One row per (workflow, item) result, newest first: an item reviewed in two workflows has two rows."""
    by_name = {wf.name: wf for wf in workflows.list()}
    consolidated = sorted(consolidation.all(workflow), key=lambda c: c.updated_at, reverse=True)
    media = {m.media_id: m for m in catalog.list()}
    out = []
    for c in consolidated[:limit]:
        threshold = by_name[c.workflow].routing.accept_at if c.workflow in by_name else DEFAULT_THRESHOLD
        finals = final_labels(predictions.get(c.media_id), c, threshold)
        item = media.get(c.media_id)
        out.append(ItemResult(c.media_id, item.file_name if item else c.media_id[:12],
                              tuple(f.name for f in finals if f.source == "human"),
                              tuple(f.name for f in finals if f.source == "auto"), c.reviewers, c.confidence,
                              len(c.boxes), c.workflow))
    return out


@dataclass(frozen=True)
class ResultsSummary:
    """What the Results page counts, each saying whether it counts items or human loops."""
    items: int  # media items with a result (an item reviewed in two workflows counts once)
    results: int  # (workflow, item) results: one row each in the items table
    loops_completed: int  # human loops whose answers are all in
    loops_open: int  # human loops still waiting for answers

    @property
    def is_empty(self) -> bool:
        return not (self.results or self.loops_completed or self.loops_open)


class Results:
    """The Results page's figures, kept until an answer, a loop or a consolidation changes (they read everything)."""

    def __init__(self, workflows: Workflows, loops: Loops, answers: Answers, predictions: Predictions,
                 consolidation: Consolidation, catalog: Catalog, transcripts: Transcripts):
        self.workflows = workflows
        self.loops = loops
        self.answers = answers
        self.predictions = predictions
        self.consolidation = consolidation
        self.catalog = catalog
        self.transcripts_store = transcripts
        self._memo: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def _signature(self) -> tuple:
        return (self.answers.count(), self.loops.count(), self.consolidation.count(), self.predictions.count(),
                self.transcripts_store.head_count(), self.consolidation.generation, self.transcripts_store.generation)

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

    def _threshold(self, workflow: str | None) -> float:
        return self.workflows.get(workflow).routing.accept_at if workflow else DEFAULT_THRESHOLD

    def items(self, *, workflow: str | None = None) -> list[ItemResult]:
        return self._cached("items", workflow, lambda: item_results(
            self.workflows, self.consolidation, self.catalog, self.predictions, workflow=workflow))

    def summary(self, *, workflow: str | None = None) -> ResultsSummary:
        return self._cached("summary", workflow, lambda: self._summary(workflow))

    def _summary(self, workflow: str | None) -> ResultsSummary:
        results = [(c.workflow, c.media_id) for c in self.consolidation.all(workflow)]
        loops = self.loops.list(workflow)
        done = sum(1 for lp in loops if lp.status == "Completed")
        return ResultsSummary(len({m for _, m in results}), len(results), done,
                              sum(1 for lp in loops if lp.status == "InProgress"))

    def agreement(self, *, workflow: str | None = None) -> AgreementReport:
        return self._cached("agreement", workflow, lambda: self._agreement(workflow))

    def blind(self, *, workflow: str | None = None) -> BlindComparison:
        return self._cached("blind", workflow, lambda: self._blind(workflow))

    def transcripts(self, *, workflow: str | None = None) -> TranscriptAccuracy:
        """1 - WER of the model's transcript against the reviewed version, over every reviewed transcript (or
        those of the workflow's loops)."""
        return self._cached("transcripts", workflow, lambda: self._transcripts(workflow))

    def _agreement(self, workflow: str | None) -> AgreementReport:
        loops = self.loops.list(workflow)
        ids = {lp.loop_id for lp in loops}
        media_ids = {lp.media_id for lp in loops}
        answers = [a for a in self.answers.all() if a.loop_id in ids]
        consolidated = list(self.consolidation.all(workflow))
        predictions = {p.media_id: p for p in self.predictions.all() if p.media_id in media_ids}
        return measure(answers, loops, consolidated, predictions, self._threshold(workflow))

    def _blind(self, workflow: str | None) -> BlindComparison:
        loops = self.loops.list(workflow)
        ids = {lp.loop_id for lp in loops}
        answers = [a for a in self.answers.all() if a.loop_id in ids and "isBlind" in a.content]
        if not answers:
            return BlindComparison(0, None, 0, None)
        media_ids = {lp.media_id for lp in loops}
        predictions = {p.media_id: p for p in self.predictions.all() if p.media_id in media_ids}
        return compare_blind(answers, loops, predictions, self._threshold(workflow))

    def _transcripts(self, workflow: str | None) -> TranscriptAccuracy:
        reviewed = self.transcripts_store.reviewed_ids()
        if workflow is not None:
            reviewed &= {lp.media_id for lp in self.loops.list(workflow)}
        wers = (self.transcripts_store.word_error_rate(m) for m in sorted(reviewed))
        return transcript_accuracy(w for w in wers if w is not None)
