"""Human loops: one per (workflow, media item), created idempotently and completed when reviewed."""
from __future__ import annotations

import hashlib
from dataclasses import replace

from core import changes
from core.domain import HumanLoop, as_dict, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError, NotFound
from core.stores.base import RecordStore, update_record

KIND = "loop"
LOOP_STATUSES = ("InProgress", "Completed", "Stopped", "Failed")


def loop_id_for(workflow: str, media_id: str) -> str:
    """A deterministic loop name, so routing the same item again creates no duplicate (A2I names are <= 63 chars)."""
    digest = hashlib.sha256(f"{workflow}\x00{media_id}".encode()).hexdigest()[:16]
    return f"{workflow[:40]}-{digest}"


class Loops:
    def __init__(self, records: RecordStore):
        self.records = records

    def create(self, loop: HumanLoop) -> bool:
        """Store a new loop; False if a loop with that id already exists (nothing is changed then)."""
        body = as_dict(loop if loop.created_at else replace(loop, created_at=utc_now()))
        try:
            self.records.create(KIND, loop.loop_id, body, parent=loop.workflow)
        except AlreadyExists:
            return False
        changes.stamp(self.records, changes.LOOPS)
        return True

    def get(self, loop_id: str) -> HumanLoop:
        rec = self.records.get(KIND, loop_id)
        if rec is None:
            raise NotFound("human loop", loop_id)
        return from_dict(HumanLoop, rec.body)

    def list(self, workflow: str | None = None, status: str | None = None) -> list[HumanLoop]:
        loops = (from_dict(HumanLoop, r.body) for r in self.records.query(KIND, parent=workflow))
        return [lp for lp in loops if status is None or lp.status == status]

    def count(self) -> int:
        return self.records.count(KIND)

    def for_media(self, media_id: str) -> list[HumanLoop]:
        return [lp for lp in self.list() if lp.media_id == media_id]

    def set_status(self, loop_id: str, status: str) -> HumanLoop:
        """Status moves are system writes: a concurrent change is retried on the newer version."""
        if status not in LOOP_STATUSES:
            raise LoupeError(f"Unknown human loop status {status!r}.")
        body = update_record(self.records, KIND, loop_id, lambda b: {**b, "status": status}, what="human loop")
        changes.stamp(self.records, changes.LOOPS)
        return from_dict(HumanLoop, body)
