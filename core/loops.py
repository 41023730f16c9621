"""Human loops: one per (workflow, media item), created idempotently and completed when reviewed.

What the review queue counts is kept as the loops change, so no count reads every loop: the counter "loops" holds,
per workflow, the loops in each status, the answers still needed on open loops, and per reviewer the open loops they
have answered (a loop of 2+ reviewers stays open after their answer). Each is one atomic increment on the store, so
two app processes keep them exact together. An answer is counted with a versioned write of its loop (the reviewers
counted so far, NOTED in the loop's record), and so is the loop's closing: whichever comes first, the other sees
it, so an answer that races the loop's completion is counted once. Open loops also carry the sort value "open", so
"the next open loops" is one index range (`open_loops`), not a pass over every loop.
"""
from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import replace

from core import changes
from core.answers import KIND as ANSWER_KIND
from core.domain import HumanLoop, as_dict, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError, NotFound, VersionConflict
from core.stores.base import Record, RecordStore, cursor_of

log = logging.getLogger(__name__)

KIND = "loop"
LOOP_STATUSES = ("InProgress", "Completed", "Stopped", "Failed")
COUNTER = "loops"
OPEN_SORT = "open"  # the sort value of an InProgress loop; every other loop has ""
_BEFORE_OPEN = cursor_of(Record(KIND, "", {}, sort=OPEN_SORT), "sort")  # page cursor: just before the open loops
COUNTED = "_counted"  # a field every recount writes, so an empty project is not recounted on every read
NOTED = "queue_counted_answers"  # loop record field: reviewers whose answer the counter holds for this open loop


def status_field(workflow: str, status: str) -> str:
    return f"{workflow}|{status}"


def needed_field(workflow: str) -> str:
    return f"{workflow}|needed"


def answered_field(workflow: str, worker_id: str) -> str:
    """Open loops of the workflow this reviewer (as `core.review.reviewer_id` writes them) has answered."""
    return f"{workflow}|answered|{worker_id}"


def loop_record(loop: HumanLoop) -> Record:
    """The record a loop is stored as (for bulk loads; call `Loops.recount` after one)."""
    return Record(KIND, loop.loop_id, as_dict(loop), parent=loop.workflow,
                  sort=OPEN_SORT if loop.status == "InProgress" else "")


def loop_id_for(workflow: str, media_id: str) -> str:
    """A deterministic loop name, so routing the same item again creates no duplicate (A2I names are <= 63 chars)."""
    digest = hashlib.sha256(f"{workflow}\x00{media_id}".encode()).hexdigest()[:16]
    return f"{workflow[:40]}-{digest}"


class Loops:
    def __init__(self, records: RecordStore):
        self.records = records
        self._is_counted = False  # seen counted once: a counter is never unwritten, so loop writes need not re-read

    def create(self, loop: HumanLoop) -> bool:
        """Store a new loop; False if a loop with that id already exists (nothing is changed then)."""
        self.ensure_counted()
        rec = loop_record(loop if loop.created_at else replace(loop, created_at=utc_now()))
        try:
            self.records.create(KIND, rec.key, rec.body, parent=rec.parent, sort=rec.sort)
        except AlreadyExists:
            return False
        deltas = {status_field(loop.workflow, loop.status): 1}
        if loop.status == "InProgress":
            deltas[needed_field(loop.workflow)] = max(1, loop.task_count)
        self.records.add_counts(COUNTER, deltas)
        changes.stamp(self.records, changes.LOOPS)
        return True

    def get(self, loop_id: str) -> HumanLoop:
        rec = self.records.get(KIND, loop_id)
        if rec is None:
            raise NotFound("human loop", loop_id)
        return from_dict(HumanLoop, rec.body)

    def get_many(self, loop_ids: set[str]) -> dict[str, HumanLoop]:
        return {k: from_dict(HumanLoop, r.body) for k, r in self.records.get_many(KIND, loop_ids).items()}

    def list(self, workflow: str | None = None, status: str | None = None) -> list[HumanLoop]:
        loops = (from_dict(HumanLoop, r.body) for r in self.records.query(KIND, parent=workflow))
        return [lp for lp in loops if status is None or lp.status == status]

    def open_loops(self, workflow: str, *, page_size: int = 10) -> Iterator[HumanLoop]:
        """The workflow's InProgress loops in key order, read a page at a time from the open-loop index."""
        self.ensure_counted()
        cursor: str | None = _BEFORE_OPEN
        while cursor is not None:
            page = self.records.page(KIND, parent=workflow, order="sort", after=cursor, limit=page_size)
            for rec in page.records:
                if rec.sort == OPEN_SORT and rec.body.get("status") == "InProgress":
                    yield from_dict(HumanLoop, rec.body)
            cursor = page.cursor

    def count(self) -> int:
        return self.records.count(KIND)

    def for_media(self, media_id: str) -> builtins.list[HumanLoop]:
        return [lp for lp in self.list() if lp.media_id == media_id]

    def set_status(self, loop_id: str, status: str) -> HumanLoop:
        """Status moves are system writes: a concurrent change is retried on the newer version. The counts move
        with the write that changed the status, so two processes completing one loop count it once."""
        if status not in LOOP_STATUSES:
            raise LoupeError(f"Unknown human loop status {status!r}.")
        for _ in range(5):
            rec = self.records.get(KIND, loop_id)
            if rec is None:
                raise NotFound("human loop", loop_id)
            body = {**rec.body, "status": status}
            try:
                self.records.put(KIND, loop_id, body, expected_version=rec.version, parent=rec.parent,
                                 sort=OPEN_SORT if status == "InProgress" else "")
            except VersionConflict:
                continue
            old = str(rec.body.get("status", ""))
            if old != status:
                self.records.add_counts(COUNTER, _moved(rec.body, old, status))
            changes.stamp(self.records, changes.LOOPS)
            return from_dict(HumanLoop, body)
        raise LoupeError(f"Could not update human loop {loop_id[:16]}: it kept changing. Try again.")

    def delete(self, loop_id: str) -> None:
        """Remove a finished loop's record (its answers stay). A loop in progress is stopped first."""
        rec = self.records.get(KIND, loop_id)
        if rec is None:
            raise NotFound("human loop", loop_id)
        if rec.body.get("status") == "InProgress":
            raise LoupeError(f"Human loop {loop_id!r} is in progress; stop it before deleting it.")
        self.records.delete(KIND, loop_id, expected_version=rec.version)
        self.records.add_counts(COUNTER, {status_field(rec.parent, str(rec.body.get("status", ""))): -1})
        changes.stamp(self.records, changes.LOOPS, media=[str(rec.body.get("media_id", ""))])

    def note_answer(self, loop_id: str, worker_id: str) -> None:
        """Count a reviewer's newly recorded answer on an open loop: one answer fewer needed, one more open loop they
        answered. Call it after the answer is stored, before the loop is completed."""
        for _ in range(10):
            rec = self.records.get(KIND, loop_id)
            noted = list(rec.body.get(NOTED, [])) if rec else []
            if rec is None or rec.body.get("status") != "InProgress" or worker_id in noted:
                return  # closed meanwhile: its closing took every answer not counted yet off the count
            try:
                self.records.put(KIND, loop_id, {**rec.body, NOTED: [*noted, worker_id]}, expected_version=rec.version,
                                 parent=rec.parent, sort=rec.sort)
            except VersionConflict:
                continue
            workflow = str(rec.body.get("workflow", rec.parent))
            deltas = {answered_field(workflow, worker_id): 1}
            if len(noted) < max(1, int(rec.body.get("task_count", 1))):
                deltas[needed_field(workflow)] = -1
            self.records.add_counts(COUNTER, deltas)
            return
        log.warning("loop %s kept changing: %s's answer is not in the queue counts until a recount", loop_id,
                    worker_id)

    # ---- counts -------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """The counter's fields (see the module docstring), recounted first if it was never written."""
        counts = self.records.counts(COUNTER)
        return counts if counts.get(COUNTED) else self.recount()

    def ensure_counted(self) -> None:
        if not self._is_counted and not self.records.counts(COUNTER).get(COUNTED):
            self.recount()
        self._is_counted = True

    def recount(self) -> dict[str, int]:
        """Count every loop and answer again, and give open loops written without their sort value (by an older
        Loupe, or a bulk load) the value. Replaces the counter: run it when no loops are being changed (at the first
        use of a store, or from Results' repair)."""
        counts: dict[str, int] = {COUNTED: 1}
        answered: dict[str, set[str]] = {}
        for rec in self.records.query(ANSWER_KIND):
            answered.setdefault(rec.parent, set()).add(_reviewer(rec.body))
        fixed = 0
        for rec in self.records.query(KIND):
            loop = from_dict(HumanLoop, rec.body)
            field = status_field(loop.workflow, loop.status)
            counts[field] = counts.get(field, 0) + 1
            if loop.status != "InProgress":
                continue
            workers = answered.get(loop.loop_id, set())
            needed = needed_field(loop.workflow)
            counts[needed] = counts.get(needed, 0) + max(0, max(1, loop.task_count) - len(workers))
            for w in workers:
                counts[answered_field(loop.workflow, w)] = counts.get(answered_field(loop.workflow, w), 0) + 1
            noted = sorted(workers)
            if rec.sort != OPEN_SORT or sorted(rec.body.get(NOTED, [])) != noted:
                try:
                    self.records.put(KIND, rec.key, {**rec.body, NOTED: noted}, expected_version=rec.version,
                                     parent=rec.parent, sort=OPEN_SORT)
                    fixed += 1
                except VersionConflict:
                    pass  # changed meanwhile: that write kept it in step
        self.records.set_counts(COUNTER, counts)
        if fixed:
            log.info("brought %d open human loops in step with the queue counts", fixed)
        return counts


def _reviewer(answer_body: dict) -> str:
    """The reviewer of a stored answer as the queue names them (older answers may carry another spelling)."""
    from core.review import reviewer_id  # the queue's own rule; core.review builds on this module

    try:
        return reviewer_id(str(answer_body.get("worker_id", "")))
    except LoupeError:
        return str(answer_body.get("worker_id", ""))


def _moved(body: dict, old: str, new: str) -> dict[str, int]:
    """The count changes of a loop (its record before the move) leaving status `old` for `new`: what its open life
    holds in the counter (answers still needed, reviewers who answered, as NOTED) comes off, or goes on on reopening."""
    workflow = str(body.get("workflow", ""))
    deltas = {status_field(workflow, old): -1, status_field(workflow, new): 1}
    if "InProgress" in (old, new):
        sign = -1 if old == "InProgress" else 1
        noted = list(body.get(NOTED, []))
        deltas[needed_field(workflow)] = sign * max(0, max(1, int(body.get("task_count", 1))) - len(noted))
        for w in noted:
            deltas[answered_field(workflow, w)] = sign
    return deltas
