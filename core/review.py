"""The review queue: hands each reviewer their next human loop, keeps claims safe across processes, records answers.

A loop that needs N reviewers (its `task_count`, A2I's TaskCount) has N slots. A reviewer takes a slot by
creating the claim record `<loop_id>#<slot>` (create-only, so two reviewers at the same moment can't both get
it). A claim not submitted within the workflow's time limit is expired when read and can be taken over with a
versioned put, so a lost tab gives its task back to the queue. Nobody gets two slots of one loop, and nobody
gets a loop they already answered. When `task_count` answers are in, the loop is Completed and consolidated.

Reviewers are named by `reviewer_id` (Unicode NFKC, spaces collapsed, case folded), so "Alice" and "alice " are
one reviewer and can't fill two slots of one item.

A submit is crash-safe: the answer record is written first and is the truth; the claim's "submitted" mark and
the loop's Completed status are derived from the answers, and repaired on the next read if a crash came between
the writes (`_try_take`, `repair_loops`). A second answer for the same loop and reviewer (another browser using
the same name) is never dropped silently: it is kept aside (`Answers.set_aside`) and the outcome says so.
"""
from __future__ import annotations

import logging
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from core.access import OPEN, Access, Actor, NotAllowed, may_take
from core.answers import Answers
from core.conditions import is_sampled
from core.domain import Answer, HumanLoop, Workflow, as_dict, from_dict, iso_time
from core.errors import AlreadyExists, LoupeError, NotFound, VersionConflict
from core.loops import LOOP_STATUSES, Loops, answered_field, needed_field, status_field
from core.stores.base import Record, RecordStore
from core.workflows import Workflows

log = logging.getLogger(__name__)

CLAIM_KIND = "claim"
CLAIMS_PAGE = 100  # held claims read per page when counting: about one per reviewer at work


def claim_sort(claim: Claim) -> str:
    """A claim's place in the held-claims index: its expiry while held, newest first when read descending; "" once
    submitted or released, so counting what is held now reads only the claims still held, not every one ever made."""
    return "" if claim.is_submitted or claim.expires_at_s <= 0 else f"{claim.expires_at_s:017.3f}"


@dataclass(frozen=True)
class Claim:
    loop_id: str
    slot: int
    worker_id: str
    claimed_at_s: float  # epoch seconds
    expires_at_s: float
    is_submitted: bool = False


@dataclass(frozen=True)
class Task:
    """One reviewer's hold on one slot of one human loop."""
    loop: HumanLoop
    workflow: Workflow
    slot: int
    worker_id: str
    accepted_at_s: float
    expires_at_s: float

    @property
    def acceptance_time(self) -> str:
        return iso_time(self.accepted_at_s)


@dataclass(frozen=True)
class QueueSummary:
    """What is left in one workflow: open loops, answers still needed, and how many this reviewer could take."""
    workflow: str
    task_type: str
    open_loops: int
    answers_needed: int
    in_progress: int  # slots held by someone right now
    available_to_worker: int
    loops_total: int = 0  # every loop the workflow has started, open or done: 0 means none was started yet


@dataclass(frozen=True)
class SubmitOutcome:
    is_recorded: bool  # False: this reviewer's answer was already in (double submit)
    is_completed: bool  # the loop now has all its answers
    message: str
    is_set_aside: bool = False  # a different answer under the same name was in first: this one was kept aside


def claim_key(loop_id: str, slot: int) -> str:
    return f"{loop_id}#{slot}"


def is_blind(loop_id: str, blind_percent: float) -> bool:
    """Deterministic per loop: the same task is blind (model suggestions hidden) for every reviewer, every time."""
    return blind_percent > 0 and is_sampled(f"blind\x00{loop_id}", blind_percent)


class Review:
    access: Access = OPEN  # the service sets its own: who may take which workflow's tasks (its work team)

    def __init__(self, records: RecordStore, workflows: Workflows, loops: Loops, answers: Answers,
                 on_completed: Callable[[HumanLoop], None] | None = None, clock: Callable[[], float] = time.time):
        self.records = records
        self.workflows = workflows
        self.loops = loops
        self.answers = answers
        self.on_completed = on_completed
        self.clock = clock

    # ---- taking tasks ------------------------------------------------------------------------------
    def next_task(self, worker_id: str, *, task_type: str | None = None, workflows: list[str] | None = None,
                  skip: frozenset[str] = frozenset(), actor: Actor | None = None) -> Task | None:
        """The reviewer's next task: a slot they already hold, else a free or expired slot of the first open loop
        (loops in `skip`, which they passed over, come last). Only workflows whose work team has the actor."""
        current, worker_id = self._reviewer(actor, worker_id)
        later = []
        for wf, loop in self._open_loops(task_type, workflows, current):
            if loop.loop_id in skip:
                later.append((wf, loop))
                continue
            task = self._try_take(worker_id, wf, loop)
            if task is not None:
                return task
        for wf, loop in later:
            task = self._try_take(worker_id, wf, loop)
            if task is not None:
                return task
        return None

    def task_for(self, worker_id: str, loop_id: str, *, actor: Actor | None = None) -> Task | None:
        """The reviewer's task on this loop if they still hold (or can retake) a slot and haven't answered."""
        current, worker_id = self._reviewer(actor, worker_id)
        try:
            loop = self.loops.get(loop_id)
            wf = self.workflows.get(loop.workflow)
        except NotFound:
            return None
        if loop.status != "InProgress" or not may_take(current, wf):
            return None
        return self._try_take(worker_id, wf, loop)

    def resume_or_next(self, worker_id: str, loop_id: str | None, *, task_type: str | None = None,
                       skip: frozenset[str] = frozenset(), actor: Actor | None = None) -> Task | None:
        """The task a page was showing if the reviewer still holds it, else their next one."""
        task = self.task_for(worker_id, loop_id, actor=actor) if loop_id else None
        if task is not None and (task_type is None or task.workflow.task_type == task_type):
            return task
        return self.next_task(worker_id, task_type=task_type, skip=skip, actor=actor)

    def _reviewer(self, actor: Actor | None, worker_id: str) -> tuple[Actor, str]:
        """The acting member, if they may review, and the name their answers go under (their own, if signed in)."""
        current = self.access.require(actor, "review")
        return current, reviewer_id(self.access.reviewer_id(current, worker_id))

    def release(self, task: Task, *, actor: Actor | None = None) -> None:
        """Give a task back to the queue now (the reviewer skipped it)."""
        self._reviewer(actor, task.worker_id)
        rec = self.records.get(CLAIM_KIND, claim_key(task.loop.loop_id, task.slot))
        if rec is None:
            return
        claim = from_dict(Claim, rec.body)
        if reviewer_id(claim.worker_id) == reviewer_id(task.worker_id) and not claim.is_submitted:
            try:
                released = replace(claim, expires_at_s=0.0)
                self.records.put(CLAIM_KIND, rec.key, as_dict(released), expected_version=rec.version,
                                 parent=claim.loop_id, sort=claim_sort(released))
            except VersionConflict:  # the claim changed since it was read: it expired and was taken, or submitted
                log.info("slot %s of %s changed before %s could release it; left as it is", task.slot,
                         task.loop.loop_id, task.worker_id)

    def _open_loops(self, task_type: str | None, names: list[str] | None,
                    actor: Actor) -> Iterator[tuple[Workflow, HumanLoop]]:
        wfs = [wf for wf in self.workflows.list()
               if (task_type is None or wf.task_type == task_type) and (names is None or wf.name in names)
               and may_take(actor, wf)]
        for wf in wfs:
            for loop in self.loops.open_loops(wf.name):
                yield wf, loop

    def _try_take(self, worker_id: str, wf: Workflow, loop: HumanLoop) -> Task | None:
        answers = self.answers.for_loop(loop.loop_id)
        answered = {reviewer_id(a.worker_id) for a in answers}
        needed = max(1, loop.task_count)
        if len(answered) >= needed:
            self._complete_if_done(loop)  # all answers in, but a crash came before the loop was completed
            return None
        if worker_id in answered:
            return None
        now = self.clock()
        claims = {r.key: r for r in self.records.query(CLAIM_KIND, parent=loop.loop_id)}
        rec: Record | None
        for rec in claims.values():
            claim = from_dict(Claim, rec.body)
            if reviewer_id(claim.worker_id) == worker_id:
                if claim.expires_at_s > now and not claim.is_submitted:
                    return self._task(wf, loop, claim)
                # their own lapsed claim (or one marked submitted whose answer a crash lost), if nobody took it
                renewed = self._take_over(rec, worker_id, wf, now)
                return self._task(wf, loop, renewed) if renewed else None
        credited: set[str] = set()  # reviewers whose answer a slot already stands for: one slot each
        for slot in range(needed):
            key = claim_key(loop.loop_id, slot)
            rec = claims.get(key)
            if rec is None:
                claim = Claim(loop.loop_id, slot, worker_id, now, now + wf.time_limit_s)
                try:
                    self.records.create(CLAIM_KIND, key, as_dict(claim), parent=loop.loop_id, sort=claim_sort(claim))
                    return self._task(wf, loop, claim)
                except AlreadyExists:
                    continue
            current = from_dict(Claim, rec.body)
            holder = reviewer_id(current.worker_id)
            if holder in answered and holder not in credited:
                credited.add(holder)
                continue  # the slot's answer is in (its claim may not be marked yet)
            # a second slot under a name that answered through another one (two app processes handed the same name
            # both slots at once) stands for no answer: it is taken over like a lapsed one
            if current.expires_at_s > now and not current.is_submitted:
                continue  # held by someone right now
            taken = self._take_over(rec, worker_id, wf, now)  # lapsed, or marked submitted with no answer behind it
            if taken:
                log.info("slot %s of %s returned to the queue and taken by %s", slot, loop.loop_id, worker_id)
                return self._task(wf, loop, taken)
        return None

    def _take_over(self, rec: Record, worker_id: str, wf: Workflow, now: float) -> Claim | None:
        old = from_dict(Claim, rec.body)
        claim = Claim(old.loop_id, old.slot, worker_id, now, now + wf.time_limit_s)
        try:
            self.records.put(CLAIM_KIND, rec.key, as_dict(claim), expected_version=rec.version, parent=old.loop_id,
                             sort=claim_sort(claim))
            return claim
        except VersionConflict:
            return None

    @staticmethod
    def _task(wf: Workflow, loop: HumanLoop, claim: Claim) -> Task:
        return Task(loop, wf, claim.slot, claim.worker_id, claim.claimed_at_s, claim.expires_at_s)

    # ---- submitting --------------------------------------------------------------------------------
    def submit(self, task: Task, content: dict[str, Any], *, actor: Actor | None = None) -> SubmitOutcome:
        """Record the reviewer's answer in A2I's shape; a second submit of the same task is recorded once. A signed-in
        member answers only their own task, on a workflow whose work team has them.

        Order matters for crashes: the answer first (the truth), then completion, then the claim's mark. Each later
        step is derived from the answers, so a crash between any two leaves nothing lost and nothing stuck."""
        current, _ = self._reviewer(actor, task.worker_id)
        self.access.require_team(current, self.workflows.get(task.loop.workflow))
        key = claim_key(task.loop.loop_id, task.slot)
        rec = self.records.get(CLAIM_KIND, key)
        claim = from_dict(Claim, rec.body) if rec else None
        worker_id = reviewer_id(task.worker_id)
        if claim is None or reviewer_id(claim.worker_id) != worker_id:
            raise LoupeError("Your time on this task ran out and it went to another reviewer, so this answer was "
                             "not recorded. Open the next task.")
        outcome = self._record_answer(task.loop, worker_id, content, accepted_at_s=task.accepted_at_s)
        if rec is not None and not claim.is_submitted:
            # An answer this submit did not record came in under the same name through the loop's other slot (the
            # same name in two browsers, each holding a slot): that slot's answer counts, and this slot goes back to
            # the queue, or the loop would wait forever for an answer no slot is left to give.
            done = replace(claim, is_submitted=True) if outcome.is_recorded else replace(claim, expires_at_s=0.0)
            try:
                self.records.put(CLAIM_KIND, key, as_dict(done), expected_version=rec.version, parent=claim.loop_id,
                                 sort="" if outcome.is_recorded else claim_sort(done))
            except VersionConflict:
                pass  # a parallel submit of the same answer marked it; the answer record is the truth
        return outcome

    def record_answer(self, loop: HumanLoop, worker_id: str, content: dict[str, Any], *,
                      accepted_at_s: float | None = None, actor: Actor | None = None) -> SubmitOutcome:
        """Record an answer given outside the queue's claims (e.g. marking a transcript reviewed), or a claimed
        task's: create-only per loop and reviewer, and the loop completes (and consolidates) at `task_count`
        answers. A different answer from the same reviewer is kept aside, and the outcome says so."""
        current, worker_id = self._reviewer(actor, worker_id)
        self.access.require_team(current, self.workflows.get(loop.workflow))
        return self._record_answer(loop, worker_id, content, accepted_at_s=accepted_at_s)

    def _record_answer(self, loop: HumanLoop, worker_id: str, content: dict[str, Any], *,
                       accepted_at_s: float | None) -> SubmitOutcome:
        worker_id = reviewer_id(worker_id)
        now = self.clock()
        accepted = now if accepted_at_s is None else min(accepted_at_s, now)
        answer = Answer(loop_id=loop.loop_id, worker_id=worker_id, content=content,
                        acceptance_time=iso_time(accepted), submission_time=iso_time(now),
                        time_spent_s=round(max(0.0, now - accepted), 3))
        first = next((a for a in self.answers.for_loop(loop.loop_id) if reviewer_id(a.worker_id) == worker_id), None)
        is_recorded = first is None and self.answers.submit(answer)
        if is_recorded:
            self.loops.note_answer(loop.loop_id, worker_id)
        if not is_recorded and first is None:
            first = next((a for a in self.answers.for_loop(loop.loop_id) if reviewer_id(a.worker_id) == worker_id),
                         None)
        is_completed = self._complete_if_done(loop)
        if is_recorded:
            return SubmitOutcome(True, is_completed,
                                 "Answer recorded." + (" This item is now complete." if is_completed else ""))
        if first is not None and first.content != content:
            self.answers.set_aside(answer)
            log.warning("loop %s: a second, different answer under the name %r was kept aside (first at %s)",
                        loop.loop_id, worker_id, first.submission_time)
            return SubmitOutcome(False, is_completed, (
                f"An answer under the name {worker_id!r} was already submitted for this task at "
                f"{first.submission_time[11:19]} UTC, from another browser or tab, and it differs from yours. "
                "That first answer counts; yours was kept aside, not lost. If that was not you, someone else is "
                "using your name: tell your admin (sign-in prevents this)."), is_set_aside=True)
        return SubmitOutcome(False, is_completed, "You had already submitted this task; your first answer stands.")

    def _complete_if_done(self, loop: HumanLoop) -> bool:
        answers = self.answers.for_loop(loop.loop_id)
        if len({reviewer_id(a.worker_id) for a in answers}) < max(1, loop.task_count):
            return False
        current = self.loops.get(loop.loop_id)
        if current.status != "Completed":
            current = self.loops.set_status(loop.loop_id, "Completed")
        if self.on_completed:
            self.on_completed(current)
        return True

    def repair_loops(self) -> int:
        """Complete (and consolidate) every loop still InProgress although all its answers are in, e.g. after a
        crash between an answer and its loop's completion. Returns how many were repaired."""
        repaired = 0
        for loop in self.loops.list(status="InProgress"):
            answered = {reviewer_id(a.worker_id) for a in self.answers.for_loop(loop.loop_id)}
            if len(answered) >= max(1, loop.task_count) and self._complete_if_done(loop):
                log.warning("loop %s had all its answers but was still in progress; completed now", loop.loop_id)
                repaired += 1
        self.loops.recount()  # counts a crash left behind (between a write and its count) are made right too
        return repaired

    # ---- what is left ------------------------------------------------------------------------------
    def summary(self, worker_id: str = "", *, task_type: str | None = None,
                actor: Actor | None = None) -> list[QueueSummary]:
        """Counts per workflow for the queue caption, for the workflows whose work team has the actor. They come
        from the loop counters (core/loops.py) and the claims held right now, never from every loop: the same few
        reads at 20 loops as at 100,000, exact across app processes."""
        try:
            current = self.access.current(actor)
        except NotAllowed:
            return []
        worker_id = (reviewer_id(worker_id) if worker_id.strip() else "") if current.is_local else current.id
        workflows = [wf for wf in self.workflows.list()
                     if (task_type is None or wf.task_type == task_type) and may_take(current, wf)]
        if not workflows:
            return []
        counts = self.loops.counts()
        held = self._held_claims(self.clock())
        loops = self.loops.get_many({c.loop_id for c in held})
        held_on: Counter[str] = Counter(c.loop_id for c in held)
        mine = {c.loop_id for c in held if reviewer_id(c.worker_id or "-") == worker_id}
        out = []
        for wf in workflows:
            open_here = [lp for lp in loops.values() if lp.workflow == wf.name and lp.status == "InProgress"]
            blocked = 0  # open loops others hold every free slot of, that this reviewer has not answered
            for lp in open_here:
                if lp.loop_id in mine:
                    continue
                answered = {reviewer_id(a.worker_id) for a in self.answers.for_loop(lp.loop_id)}
                if worker_id not in answered and held_on[lp.loop_id] >= max(1, lp.task_count) - len(answered):
                    blocked += 1
            open_loops = max(0, counts.get(status_field(wf.name, "InProgress"), 0))
            answered_open = counts.get(answered_field(wf.name, worker_id), 0) if worker_id else 0
            out.append(QueueSummary(
                wf.name, wf.task_type, open_loops, max(0, counts.get(needed_field(wf.name), 0)),
                sum(held_on[lp.loop_id] for lp in open_here), max(0, open_loops - answered_open - blocked),
                sum(max(0, counts.get(status_field(wf.name, s), 0)) for s in LOOP_STATUSES)))
        return out

    def _held_claims(self, now: float) -> list[Claim]:
        """Claims held right now (not submitted, not lapsed), from the held-claims index, newest expiry first."""
        held: list[Claim] = []
        cursor: str | None = None
        while True:
            page = self.records.page(CLAIM_KIND, order="sort", descending=True, after=cursor, limit=CLAIMS_PAGE)
            for rec in page.records:
                claim = from_dict(Claim, rec.body)
                if not rec.sort or claim.expires_at_s <= now:
                    return held
                if not claim.is_submitted:
                    held.append(claim)
            if page.cursor is None:
                return held
            cursor = page.cursor


def reviewer_id(name: str) -> str:
    """One reviewer, however their name was typed: Unicode NFKC (full-width and ligature forms folded), runs of
    spaces collapsed, case folded. LoupeError for a name that is empty once normalised."""
    text = "".join(c for c in unicodedata.normalize("NFKC", name or "") if unicodedata.category(c) != "Cf")
    text = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split()).casefold()
    if not text:
        raise LoupeError("Enter your name as reviewer before taking a task.")
    return text
