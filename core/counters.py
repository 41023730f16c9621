"""Every count the store keeps as records change, recounted from the records themselves (`python -m core recount`).

The media counts (core/catalog.py), the review queue's counts (core/loops.py) and the Results totals
(core/result_totals.py) are each moved by an atomic increment after the write they count, so a crash between the
two leaves them off until a recount; the list
of label names (core/label_names.py) is written after the predictions that hold them, so a crash can leave a name
out. A recount reads every media item, loop, answer, result and prediction once: run it while nobody is reviewing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.catalog import COUNTER as MEDIA_COUNTER
from core.catalog import Catalog
from core.label_names import LabelNames, Listing
from core.loops import COUNTER as LOOPS_COUNTER
from core.loops import Loops
from core.result_totals import META as RESULTS_META
from core.result_totals import ResultTotals
from core.stores.base import RecordStore

SHOWN = 12  # changed counts named in the report; --json has every one


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
        changed = sorted(self.changed.items())
        shown = ", ".join(f"{field} was {old}, is {new}" for field, (old, new) in changed[:SHOWN])
        shown += f", and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
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


def recount_all(records: RecordStore, catalog: Catalog, loops: Loops, label_names: LabelNames,
                result_totals: ResultTotals | None = None) -> RecountReport:
    """Recount the media counts, the queue counts and the Results totals, relist the label names, and say what
    changed."""
    counted: list[tuple[str, str, Callable[[], Any], Callable[[], Any]]] = [
        (MEDIA_COUNTER, "media counts", lambda: records.counts(MEDIA_COUNTER), catalog.recount),
        (LOOPS_COUNTER, "review queue counts", lambda: records.counts(LOOPS_COUNTER), loops.recount)]
    if result_totals is not None:
        counted.append(("results", "Results totals", lambda: _results_counts(records), result_totals.recount))
    changes = []
    for name, what, read, recount in counted:
        before = read()
        recount()
        after = read()
        changes.append(CounterChange(name, what, sum(1 for k, v in after.items() if v and not _is_mark(k)),
                                     _changed(before, after)))
    return RecountReport(tuple(changes), label_names.relist())


def _results_counts(records: RecordStore) -> dict[str, int]:
    """Every Results totals counter's fields, as "<counter> <field>" (the counters its marker record names)."""
    meta = records.get(*RESULTS_META)
    names = meta.body.get("counters", []) if meta is not None else []
    return {f"{name} {field}": value for name in names for field, value in records.counts(name).items()}


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {field: (before.get(field, 0), after.get(field, 0)) for field in sorted(set(before) | set(after))
            if before.get(field, 0) != after.get(field, 0) and not _is_mark(field)}


def _is_mark(field: str) -> bool:
    """A counter's "counted once" mark (catalog READY, loops COUNTED), not a count."""
    return field.startswith("_")
