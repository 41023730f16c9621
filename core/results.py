"""The Results view's data: each item's final labels (human or auto), and agreement among people and with the model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.agreement import AgreementReport, BlindComparison, compare_blind, measure
from core.consolidation import final_labels

if TYPE_CHECKING:
    from core.service import Service

DEFAULT_THRESHOLD = 0.5


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
    predictions = {m: p for m in media_ids if (p := service.predictions.get(m)) is not None}
    threshold = service.workflows.get(workflow).threshold if workflow else DEFAULT_THRESHOLD
    return measure(answers, loops, consolidated, predictions, threshold)


def blind_comparison(service: "Service", *, workflow: str | None = None) -> BlindComparison:
    loops = service.loops.list(workflow)
    ids = {lp.loop_id for lp in loops}
    predictions = {p.media_id: p for p in service.predictions.all()}
    threshold = service.workflows.get(workflow).threshold if workflow else DEFAULT_THRESHOLD
    return compare_blind((a for a in service.answers.all() if a.loop_id in ids), loops, predictions, threshold)
