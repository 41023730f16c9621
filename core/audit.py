"""The audit log: who changed what, when, from which version to which, kept in the project's store.

Records are keyed by write time (nanoseconds) plus a random tail, so `query` returns them oldest first on every
backend and two processes never collide. Nothing edits or deletes them.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.domain import as_dict, from_dict, iso_time

if TYPE_CHECKING:
    from core.access import Actor
    from core.stores.base import RecordStore

KIND = "audit"
ACTIONS = ("sign-in", "member", "settings", "workflow", "loops", "export", "import", "media", "delete",
           "cancel", "learn")


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO 8601 UTC, as iso_time writes it
    who: str  # the member's email, "local" (the command line or LOUPE_AUTH=none) or "api:<key>"
    action: str  # one of ACTIONS
    target: str  # what it changed: a workflow name, a member's email, "settings", a job id
    before_version: int | None = None
    after_version: int | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return as_dict(self)


def who(actor: Actor) -> str:
    if actor.source == "system":
        return f"job ({actor.id})"
    if actor.is_local:
        return f"local ({actor.id})" if actor.id else "local"
    return actor.id


class AuditLog:
    def __init__(self, records: RecordStore, clock: Callable[[], float] = time.time):
        self.records = records
        self.clock = clock

    def record(self, actor: Actor, action: str, target: str, *, before_version: int | None = None,
               after_version: int | None = None, detail: str = "") -> AuditEntry:
        now = self.clock()
        entry = AuditEntry(iso_time(now), who(actor), action, target, before_version, after_version, detail)
        self.records.create(KIND, f"{int(now * 1e9):020d}-{uuid.uuid4().hex[:8]}", as_dict(entry))
        return entry

    def entries(self, *, who: str = "", action: str = "", target: str = "", limit: int | None = None
                ) -> list[AuditEntry]:
        """Entries oldest first, filtered by who / action / target (each a case-insensitive substring)."""
        out = []
        for rec in self.records.query(KIND):
            e = from_dict(AuditEntry, rec.body)
            if all(want.lower() in have.lower() for want, have in ((who, e.who), (action, e.action),
                                                                   (target, e.target)) if want):
                out.append(e)
        return out[-limit:] if limit else out
