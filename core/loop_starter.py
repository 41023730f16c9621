"""Starting human loops: create one loop for every item a workflow sends to people, by its thresholds, its
activation conditions, or (for transcripts) its words' confidence. The routing itself is pure (core/routing.py);
this is the part that reads the store and writes loops."""
from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.access import OPEN, Access, Actor, job_actor
from core.catalog import Catalog
from core.conditions import Evaluation, evaluate, is_sampled
from core.domain import HumanLoop, Job, Workflow
from core.errors import LoupeError, NotFound
from core.jobs import JobContext, JobRunner
from core.loops import Loops, loop_id_for
from core.routing import Router
from core.routing_policy import Thresholds
from core.task_types import task_type_of
from core.transcripts import Transcripts
from core.workflows import Workflows

log = logging.getLogger(__name__)

JOB_KIND = "route"
Picked = tuple[str, tuple[str, ...], dict, bool]  # media_id, reasons, activation results, is_audit


@dataclass(frozen=True)
class LoopsStarted:
    workflow: str
    created: int
    existing: int
    review: int
    audit: int
    media_ids: tuple[str, ...] = field(default=(), repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "created": self.created, "already_existed": self.existing,
                "review": self.review, "audit": self.audit}


class LoopStarter:
    access: Access = OPEN  # the service sets its own
    def __init__(self, router: Router, workflows: Workflows, loops: Loops, catalog: Catalog,
                 transcripts: Transcripts, jobs: JobRunner):
        self.router = router
        self.workflows = workflows
        self.loops = loops
        self.catalog = catalog
        self.transcripts = transcripts
        self.jobs = jobs

    def submit(self, workflow_name: str, *, created_by: str = "", actor: Actor | None = None) -> Job:
        """Start the workflow's loops in the background (the "route" job); its result is `LoopsStarted.as_json()`.
        Admins only."""
        current = self.access.require(actor, "loops")
        created_by = created_by if current.is_local else current.id
        version = self.workflows.version(workflow_name)
        job = self.jobs.submit(JOB_KIND, {"workflow": workflow_name}, created_by=created_by)
        self.access.record(current, "loops", workflow_name, before_version=version, after_version=version,
                           detail=f"queued as job {job.job_id}")
        return job

    def start_loops(self, workflow_name: str, *, media_ids: Collection[str] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    is_cancelled: Callable[[], bool] | None = None, actor: Actor | None = None) -> LoopsStarted:
        """Create a human loop for every item the workflow sends to people (of `media_ids` only, when given: the
        demo queues its own items, never a user's); rerunning creates no duplicates. Admins only (a job acts as
        its submitter, checked when it was submitted)."""
        current = self.access.require(actor, "loops")
        outcome = self._start_loops(workflow_name, media_ids=media_ids, progress=progress, is_cancelled=is_cancelled)
        version = self.workflows.version(workflow_name)
        self.access.record(current, "loops", workflow_name, before_version=version, after_version=version,
                           detail=f"created {outcome.created} loops ({outcome.existing} already existed)")
        return outcome

    def _start_loops(self, workflow_name: str, *, media_ids: Collection[str] | None,
                     progress: Callable[[int, int], None] | None,
                     is_cancelled: Callable[[], bool] | None) -> LoopsStarted:
        wf = self.workflows.get(workflow_name)
        if task_type_of(wf.task_type).routes_by == "transcript_words":
            picked = self._picked_transcripts(wf)
        elif wf.routing.thresholds is not None:
            picked = self._picked_by_thresholds(wf, wf.routing.thresholds)
        elif wf.routing.conditions:
            picked = self._picked_by_conditions(wf)
        else:
            raise LoupeError(f"Workflow {wf.name!r} has neither thresholds nor activation conditions, so it would "
                             "send nothing to people. Save thresholds or conditions with it first.")
        if media_ids is not None:
            only = set(media_ids)
            picked = [p for p in picked if p[0] in only]
        created = existing = audits = 0
        done_ids = []
        for n, (media_id, reasons, results, is_audit) in enumerate(picked):
            if is_cancelled and is_cancelled():
                break
            loop = HumanLoop(loop_id_for(wf.name, media_id), media_id, wf.name, reasons=reasons,
                             activation_results=results, is_audit=is_audit, task_count=wf.task_count)
            if self.loops.create(loop):
                created += 1
                done_ids.append(media_id)
                self._mark_in_review(media_id)
            else:
                existing += 1
            audits += is_audit
            if progress and n % 200 == 0:
                progress(n, len(picked))
        if progress:
            progress(len(picked), len(picked))
        return LoopsStarted(wf.name, created, existing, len(picked) - audits, audits, tuple(done_ids))

    def run_route_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        outcome = self.start_loops(params["workflow"], progress=lambda d, t: ctx.progress(d, t, "creating loops"),
                                   is_cancelled=ctx.is_cancelled, actor=job_actor(ctx.job.created_by))
        return outcome.as_json()

    def _mark_in_review(self, media_id: str) -> None:
        try:
            self.catalog.set_status(media_id, "in_review")
        except NotFound:
            log.info("Prediction %s has no media item (imported); loop created without a status change", media_id)

    def _picked_by_thresholds(self, wf: Workflow, thresholds: Thresholds) -> list[Picked]:
        routed = self.router.route(thresholds, wf.audit_percent)
        conditions = wf.routing.conditions or None
        picked: list[Picked] = []
        for index in np.flatnonzero(routed.needs_people):
            i = int(index)
            media_id = str(routed.frame.media_ids[i])
            results: dict[str, Any] = {}
            reasons = routed.reasons(i)
            if conditions:
                evaluation = evaluate(conditions, routed.frame.label_scores(i), media_id)
                results, reasons = evaluation.results, evaluation.reasons or reasons
            picked.append((media_id, reasons, results, bool(routed.is_audit[i])))
        return picked

    def _picked_transcripts(self, wf: Workflow) -> list[Picked]:
        """Transcripts go to people when any word is below the workflow's accept threshold; an audit share of the
        rest too. The words' confidences are the model's, so the model's transcript is what is judged."""
        accept_at = wf.routing.accept_at
        picked: list[Picked] = []
        for item in self.catalog.list():
            if item.kind not in ("audio", "video"):
                continue
            model = self.transcripts.model_version_of(item.media_id)
            if model is None:
                continue
            low = [w for w in model.transcript.words if w.confidence < accept_at]
            if low:
                picked.append((item.media_id, (f"{len(low)} word{'s' if len(low) != 1 else ''} below "
                                               f"{accept_at:.0%} confidence",), {}, False))
            elif is_sampled(item.media_id, wf.audit_percent):
                picked.append((item.media_id, ("audit sample",), {}, True))
        return picked

    def _picked_by_conditions(self, wf: Workflow) -> list[Picked]:
        frame = self.router.frame(task_type_of(wf.task_type).label_category)
        picked = []
        for i in range(frame.n_items):
            media_id = str(frame.media_ids[i])
            evaluation = evaluate(wf.routing.conditions, frame.label_scores(i), media_id)
            if evaluation.activated:
                picked.append((media_id, evaluation.reasons, evaluation.results, is_audit_only(evaluation)))
        return picked


def is_audit_only(evaluation: Evaluation) -> bool:
    """True when every condition that fired contains a Sampling condition: the item was picked by sampling."""
    fired = [c for c in evaluation.results.get("Conditions", []) if c.get("EvaluationResult")]
    return bool(fired) and all(_has_sampling(c) for c in fired)


def _has_sampling(node: Mapping[str, Any]) -> bool:
    if node.get("ConditionType") == "Sampling":
        return True
    return any(_has_sampling(child) for op in ("And", "Or") for child in node.get(op, ()))
