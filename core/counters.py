"""Every count the store keeps as records change, recounted from the records themselves (`python -m core recount`).

The media counts (core/catalog.py) and the review queue's counts (core/loops.py) are each moved by an atomic
increment after the write they count, so a crash between the two leaves them off by one until a recount; the list
of label names (core/label_names.py) is written after the predictions that hold them, so a crash can leave a name
out. A recount reads every media item, loop, answer and prediction once: run it while nobody is reviewing.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.catalog import COUNTER as MEDIA_COUNTER
from core.catalog import Catalog
from core.label_names import LabelNames, Listing
from core.loops import COUNTER as LOOPS_COUNTER
from core.loops import Loops
from core.stores.base import RecordStore


@dataclass(frozen=True)
class CounterChange:
    """One counter after its recount: the fields whose value differed, as (before, after)."""
    name: str
    what: str  # in words, for the report
    fields: int  # fields with a value after the recount
    changed: dict[str, tuple[int, int]]

    def summary(self) -> str:
        if not self.changed:
            return f"{self.what}: right ({self.fields} count(s) checked)"
        shown = ", ".join(f"{field} was {old}, is {new}" for field, (old, new) in sorted(self.changed.items()))
        return f"{self.what}: {len(self.changed)} of {self.fields} count(s) were off and are right now: {shown}"


@dataclass(frozen=True)
class RecountReport:
    counters: tuple[CounterChange, ...]
    label_names: Listing

    @property
    def is_changed(self) -> bool:
        return any(c.changed for c in self.counters) or self.label_names.added > 0

    def summary(self) -> str:
        lines = [c.summary() for c in self.counters] + [self.label_names.summary()]
        lines.append("Everything was right already." if not self.is_changed else "Recounted: the counts above are "
                     "right now.")
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {"counters": {c.name: {"fields": c.fields, "changed": {k: list(v) for k, v in c.changed.items()}}
                             for c in self.counters},
                "label_names": {"names": self.label_names.names, "added": self.label_names.added,
                                "predictions": self.label_names.predictions, "answers": self.label_names.answers},
                "is_changed": self.is_changed}


def recount_all(records: RecordStore, catalog: Catalog, loops: Loops, label_names: LabelNames) -> RecountReport:
    """Recount the media counts and the queue counts, relist the label names, and say what changed."""
    changes = []
    for name, what, recount in ((MEDIA_COUNTER, "media counts", catalog.recount),
                                (LOOPS_COUNTER, "review queue counts", loops.recount)):
        before = records.counts(name)
        after = recount()
        changes.append(CounterChange(name, what, sum(1 for k, v in after.items() if v and not _is_mark(k)),
                                     _changed(before, after)))
    return RecountReport(tuple(changes), label_names.relist())


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {field: (before.get(field, 0), after.get(field, 0)) for field in sorted(set(before) | set(after))
            if before.get(field, 0) != after.get(field, 0) and not _is_mark(field)}


def _is_mark(field: str) -> bool:
    """A counter's "counted once" mark (catalog READY, loops COUNTED), not a count."""
    return field.startswith("_")
