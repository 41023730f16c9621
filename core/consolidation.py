"""Consolidation: several reviewers' answers for one item become one result, with a confidence, stored with the item.

Classes are decided by majority and by weighted vote, where each reviewer's weight is their agreement with the
consensus on other items (Laplace-smoothed, so a newcomer weighs about as much as anyone). The weighted vote is
the decision used downstream; the plain majority is kept beside it. Boxes drawn by several reviewers are
clustered by IoU and averaged. A box counts only under a label the vote accepted: a label's boxes go with it.

One result per (workflow, media item): record kind "consolidated", key `<workflow>|<media_id>` (result_key), parent
the workflow, so an item reviewed in several workflows keeps each result. Stores written before results were keyed
by workflow (key media_id) are rewritten once (core/migration.py, migrate_results).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core import changes
from core.access import OPEN, Access, Actor
from core.domain import Answer, BoundingBox, HumanLoop, Prediction, as_dict, from_dict, utc_now
from core.errors import LoupeError, NotFound
from core.stores.base import Record, RecordStore
from core.task_types import IMPORTED, REGISTRY, answer_labels, task_type_of
from core.task_types.label_review import read_boxes

if TYPE_CHECKING:
    from core.answers import Answers
    from core.catalog import Catalog
    from core.loops import Loops
    from core.predictions import Predictions
    from core.workflows import Workflows

log = logging.getLogger(__name__)

KIND = "consolidated"
IOU_THRESHOLD = 0.5
WEIGHTS_TTL_S = 60.0


def result_key(workflow: str, media_id: str) -> str:
    """The record key of one workflow's result for one item (workflow names hold no '|')."""
    return f"{workflow}|{media_id}"


@dataclass(frozen=True)
class LabelDecision:
    name: str
    votes: int  # reviewers who picked it
    reviewers: int  # reviewers who answered
    is_majority: bool  # more than half picked it
    weighted_score: float  # 0..1, share of reviewer weight that picked it
    is_accepted: bool  # the weighted-vote decision
    confidence: float  # 0..1, how sure the decision is (weight on the winning side)
    parent_name: str = ""


@dataclass(frozen=True)
class ConsolidatedBox:
    label: str
    box: BoundingBox  # fractions of the image
    votes: int
    confidence: float  # share of reviewers who drew it


@dataclass(frozen=True)
class Consolidated:
    media_id: str
    workflow: str = ""
    task_type: str = "moderation"
    loop_ids: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    labels: tuple[LabelDecision, ...] = ()
    boxes: tuple[ConsolidatedBox, ...] = ()
    confidence: float = 1.0  # item level: the least sure label decision
    source: str = "review"  # "review" (answers here) or "import" (A2I output.json)
    updated_at: str = ""

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset(d.name for d in self.labels if d.is_accepted)


@dataclass(frozen=True)
class FinalLabel:
    name: str
    confidence: float
    source: str  # "auto" (model, at or above the threshold, nobody reviewed it) or "human"
    parent_name: str = ""


# ---- voting ------------------------------------------------------------------------------------------
def vote(picks: dict[str, set[str]], candidates: Iterable[str], weights: dict[str, float] | None = None,
         parents: dict[str, str] | None = None) -> tuple[LabelDecision, ...]:
    """Decide each candidate label from each reviewer's picked set (majority and weighted vote)."""
    workers = sorted(picks)
    n = len(workers)
    weights = {w: (weights or {}).get(w, 1.0) for w in workers}
    total = sum(weights.values()) or 1.0
    out = []
    for name in sorted(set(candidates) | {x for s in picks.values() for x in s}):
        voters = [w for w in workers if name in picks[w]]
        score = sum(weights[w] for w in voters) / total
        accepted = score > 0.5
        out.append(LabelDecision(name=name, votes=len(voters), reviewers=n, is_majority=len(voters) * 2 > n,
                                 weighted_score=round(score, 4), is_accepted=accepted,
                                 confidence=round(score if accepted else 1 - score, 4),
                                 parent_name=(parents or {}).get(name, "")))
    return tuple(out)


def reviewer_weights(items: Iterable[dict[str, set[str]]]) -> dict[str, float]:
    """Each reviewer's agreement with the majority on items two or more people answered, (agree+1)/(total+2)."""
    agree: dict[str, int] = {}
    total: dict[str, int] = {}
    for picks in items:
        if len(picks) < 2:
            continue
        decisions = vote(picks, ())
        for w, chosen in picks.items():
            for d in decisions:
                total[w] = total.get(w, 0) + 1
                agree[w] = agree.get(w, 0) + ((d.name in chosen) == d.is_majority)
    return {w: (agree.get(w, 0) + 1) / (total[w] + 2) for w in total}


def iou(a: BoundingBox, b: BoundingBox) -> float:
    x1, y1 = max(a.left, b.left), max(a.top, b.top)
    x2, y2 = min(a.left + a.width, b.left + b.width), min(a.top + a.height, b.top + b.height)
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def cluster_boxes(boxes: dict[str, list[tuple[str, BoundingBox]]], *, threshold: float = IOU_THRESHOLD
                  ) -> tuple[ConsolidatedBox, ...]:
    """Greedy IoU clustering of same-label boxes across reviewers; clusters drawn by a majority are averaged."""
    n = len(boxes)
    clusters: list[tuple[str, list[tuple[str, BoundingBox]]]] = []
    for worker in sorted(boxes):
        for label, box in boxes[worker]:
            best, best_iou = None, threshold
            for cl in clusters:
                if cl[0] != label or any(w == worker for w, _ in cl[1]):
                    continue
                score = max(iou(box, b) for _, b in cl[1])
                if score >= best_iou:
                    best, best_iou = cl, score
            if best is None:
                clusters.append((label, [(worker, box)]))
            else:
                best[1].append((worker, box))
    out = []
    for label, members in clusters:
        if n > 1 and len(members) * 2 <= n:
            continue
        k = len(members)
        avg = BoundingBox(*(round(sum(getattr(b, f) for _, b in members) / k, 6)
                            for f in ("left", "top", "width", "height")))
        out.append(ConsolidatedBox(label, avg, k, round(k / max(n, 1), 4)))
    return tuple(out)


def consolidate_answers(media_id: str, answers: list[Answer], *, loops: Sequence[HumanLoop] = (), workflow: str = "",
                        task_type: str = "moderation", candidates: Iterable[str] = (),
                        weights: dict[str, float] | None = None, source: str = "review") -> Consolidated:
    picks: dict[str, set[str]] = {}
    parents: dict[str, str] = {}
    boxes: dict[str, list[tuple[str, BoundingBox]]] = {}
    for a in answers:
        chosen = answer_labels(a.content)
        picks[a.worker_id] = set(chosen)
        parents.update({k: v for k, v in chosen.items() if v})
        boxes[a.worker_id] = read_boxes(a.content)
    decisions = vote(picks, candidates, weights, parents)
    accepted = {d.name for d in decisions if d.is_accepted}
    has_boxes = any(boxes.values())
    return Consolidated(
        media_id=media_id, workflow=workflow, task_type=task_type, loop_ids=tuple(lp.loop_id for lp in loops),
        reviewers=tuple(sorted(picks)), labels=decisions,
        boxes=tuple(b for b in cluster_boxes(boxes) if b.label in accepted) if has_boxes else (),
        confidence=min((d.confidence for d in decisions), default=1.0), source=source, updated_at=utc_now())


def label_category(task_type: str) -> str | None:
    """The model labels a workflow of this task type routes and may accept ("general" image labels or "moderation"
    labels); None for no task type (an item outside any workflow): every category."""
    spec = REGISTRY.get(task_type)
    return spec.label_category if spec else None


def final_labels(prediction: Prediction | None, consolidated: Consolidated | None, threshold: float, *,
                 task_type: str = "") -> list[FinalLabel]:
    """The item's labels: human decisions where people reviewed, else the model's labels at or above the threshold,
    of the workflow's own label category only (an image-labels workflow never auto-accepts a moderation label).
    `task_type`: the workflow's, when there is no result yet (a result names its own)."""
    reviewed = {d.name for d in consolidated.labels} if consolidated else set()
    out = [FinalLabel(d.name, d.confidence, "human", d.parent_name)
           for d in (consolidated.labels if consolidated else ())
           if d.is_accepted]
    category = label_category(consolidated.task_type if consolidated else task_type)
    for label in (prediction.labels if prediction else ()):
        if label.name not in reviewed and label.confidence >= threshold and category in (None, label.category):
            out.append(FinalLabel(label.name, label.confidence, "auto", label.parent_name))
    return out


class Consolidation:
    access: Access = OPEN  # the service sets its own

    def __init__(self, records: RecordStore, loops: Loops, answers: Answers, predictions: Predictions,
                 workflows: Workflows, catalog: Catalog | None = None):
        self.records = records
        self.loops = loops
        self.answers = answers
        self.predictions = predictions
        self.workflows = workflows
        self.catalog = catalog
        self.generation = 0  # bumped on every write here, so cached views of results know to refresh
        self._weights: tuple[float, dict[str, float]] | None = None
        self._lock = threading.Lock()

    def consolidate(self, media_id: str, workflow: str, *, weights: dict[str, float] | None = None,
                    source: str = "review", loops: list[HumanLoop] | None = None) -> Consolidated | None:
        """Combine the answers of the item's completed loops in this workflow (or the given `loops` of it) and
        store the result under (workflow, item); other workflows' results for the item are left alone."""
        if loops is None:
            loops = [lp for lp in self.loops.list(workflow, status="Completed") if lp.media_id == media_id]
        task_type = self.task_type(workflow)
        loops = [lp for lp in loops if lp.workflow == workflow]
        if not task_type_of(task_type).is_voted:
            return None
        answers = [a for lp in loops for a in self.answers.for_loop(lp.loop_id)]
        if not answers:
            return None
        if weights is None and len({a.worker_id for a in answers}) > 1:
            weights = self.weights()
        result = consolidate_answers(media_id, answers, loops=loops, workflow=workflow, task_type=task_type,
                                     candidates=self._shown_labels(media_id, task_type), weights=weights, source=source)
        self.records.put_many([Record(KIND, result_key(workflow, media_id), as_dict(result), parent=workflow,
                                      sort=result.updated_at)])  # sort: the Results table pages newest first
        changes.stamp(self.records, changes.RESULTS, media=[media_id])
        self.generation += 1
        return result

    def task_type(self, workflow: str) -> str:
        try:
            return self.workflows.get(workflow).task_type
        except NotFound:  # an imported loop may name a flow that has no workflow here
            return IMPORTED

    def on_completed(self, loop: HumanLoop) -> None:
        """Right after a loop's last answer: the item's result in the loop's workflow. A routed loop is the only one
        of its (workflow, item) (loop_id_for), so no other loop is read; imports consolidate all of theirs."""
        self.consolidate(loop.media_id, loop.workflow, loops=[loop], weights=self.cached_weights())
        if self.catalog is not None:
            try:
                self.catalog.set_status(loop.media_id, "reviewed")
            except LoupeError as exc:  # the media record is gone or busy; the answers and result are kept
                log.warning("could not mark %s reviewed: %s", loop.media_id[:12], exc)

    def cached_weights(self) -> dict[str, float]:
        """Reviewer weights, recomputed at most once a minute: they drift slowly, and a full pass reads every answer."""
        now = time.monotonic()
        with self._lock:
            if self._weights is None or now - self._weights[0] > WEIGHTS_TTL_S:
                self._weights = (now, self.weights())
            return self._weights[1]

    def weights(self) -> dict[str, float]:
        per_loop: dict[str, dict[str, set[str]]] = {}
        for a in self.answers.all():
            per_loop.setdefault(a.loop_id, {})[a.worker_id] = set(answer_labels(a.content))
        return reviewer_weights(per_loop.values())

    def reconsolidate_all(self, *, actor: Actor | None = None) -> int:
        """Recompute every (workflow, item) result with current reviewer weights (they shift as answers come in).
        Admins only."""
        current = self.access.require(actor, "workflows")
        self.access.record(current, "workflow", "all workflows", detail="re-consolidated with current weights")
        weights = self.weights()
        groups: dict[tuple[str, str], list[HumanLoop]] = {}
        for lp in self.loops.list(status="Completed"):
            groups.setdefault((lp.workflow, lp.media_id), []).append(lp)
        return sum(1 for (wf, m), loops in sorted(groups.items())
                   if self.consolidate(m, wf, weights=weights, loops=loops) is not None)

    def get(self, media_id: str, workflow: str | None = None) -> Consolidated | None:
        """The item's result in `workflow`; without one, its newest result in any workflow."""
        if workflow is not None:
            rec = self.records.get(KIND, result_key(workflow, media_id))
            return from_dict(Consolidated, rec.body) if rec else None
        found = [c for c in self.all() if c.media_id == media_id]
        return max(found, key=lambda c: c.updated_at) if found else None

    def all(self, workflow: str | None = None) -> Iterator[Consolidated]:
        """Every result (one per workflow and item), or those of one workflow."""
        for rec in self.records.query(KIND, parent=workflow):
            if "|" in rec.key:  # a record keyed by media_id alone predates per-workflow results (migration)
                yield from_dict(Consolidated, rec.body)

    def count(self) -> int:
        return self.records.count(KIND)

    def accepted_labels(self) -> dict[str, frozenset[str]]:
        """media_id -> the label names people accepted, for every reviewed or imported item: the ground truth that
        thresholds are measured against. An item reviewed in several workflows of one task type counts its newest
        result of that type; results of different types (moderation, image labels) add up."""
        newest: dict[tuple[str, str], Consolidated] = {}
        for c in self.all():
            key = (c.media_id, c.task_type)
            if key not in newest or c.updated_at > newest[key].updated_at:
                newest[key] = c
        out: dict[str, frozenset[str]] = {}
        for (media_id, _), c in newest.items():
            out[media_id] = out.get(media_id, frozenset()) | c.accepted
        return out

    def final_labels(self, media_id: str, threshold: float, workflow: str | None = None) -> list[FinalLabel]:
        return final_labels(self.predictions.get(media_id), self.get(media_id, workflow), threshold,
                            task_type=self.task_type(workflow) if workflow else "")

    def _shown_labels(self, media_id: str, task_type: str) -> list[str]:
        """Labels a reviewer saw and could leave unticked: a decision 'not this label' is a decision too."""
        pred = self.predictions.get(media_id)
        if pred is None:
            return []
        category = task_type_of(task_type).label_category
        return [lb.name for lb in pred.labels if lb.category == category]

