"""Change stamps: one small record per area of the store, rewritten after every write there, so that a view computed
from many records (the Results figures) can tell with a few key reads, in any process, whether what it read changed.

Writers stamp after their write; readers read the stamps before the records. A reader that computes a view then
either saw the write, or stores its view under the older stamp, which the next reader finds out of date.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from core.stores.base import Record, RecordStore

KIND = "change_stamp"
ANSWERS, LOOPS, RESULTS, TRANSCRIPTS, WORKFLOWS = "answers", "loops", "results", "transcripts", "workflows"


def stamp(records: RecordStore, area: str) -> None:
    """Mark the area changed (an unconditional write: the newest token is all a reader compares)."""
    records.put_many([Record(KIND, area, {"token": uuid.uuid4().hex, "at": time.time()})])


def stamps(records: RecordStore, areas: Iterable[str]) -> tuple[str, ...]:
    """The current token of each area ("" for one never written), in one read."""
    areas = tuple(areas)
    found = records.get_many(KIND, areas)
    return tuple(str(found[a].body.get("token", "")) if a in found else "" for a in areas)
