"""Change stamps: one small record per area of the store, rewritten after every write there, so that a view computed
from many records (the Results figures) can tell with a few key reads, in any process, whether what it read changed.

Writers stamp after their write; readers read the stamps before the records. A reader that computes a view then
either saw the write, or stores its view under the older stamp, which the next reader finds out of date.

A write that changes what one media item adds to the Results totals also leaves a mark naming the item (or the loop
it answered, or the items whose predictions changed): one small record per write, under a key of its own, so the next
Results load refreshes those items alone (core/result_totals.py) and removes exactly the marks it folded in.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence

from core.stores.base import Record, RecordStore

KIND = "change_stamp"
MARK_KIND = "results_mark"  # items whose part of the Results totals a write may have changed
MARK_CHUNK = 500  # ids per mark record: well under DynamoDB's 400 KB item
ANSWERS, LOOPS, RESULTS, TRANSCRIPTS, WORKFLOWS = "answers", "loops", "results", "transcripts", "workflows"
LABEL_NAMES = "label_names"  # a label name was listed (core/label_names.py)


def stamp(records: RecordStore, area: str, *, media: Iterable[str] = (), loops: Iterable[str] = (),
          predicted: Iterable[str] = ()) -> None:
    """Mark the area changed (an unconditional write: the newest token is all a reader compares), after leaving a
    mark for the media items (or the loops answered, or the items newly predicted) the write touched."""
    media, loops, predicted = sorted(set(media)), sorted(set(loops)), sorted(set(predicted))
    if media or loops or predicted:
        mark(records, media=media, loops=loops, predicted=predicted)
    records.put_many([Record(KIND, area, {"token": uuid.uuid4().hex, "at": time.time()})])


def mark(records: RecordStore, *, media: Sequence[str] = (), loops: Sequence[str] = (),
         predicted: Sequence[str] = ()) -> None:
    """One mark record per MARK_CHUNK items: a unique key in time order, so marks are paged oldest first and a reader
    deletes the ones it read, never one written after."""
    chunks = [("media", media), ("loops", loops), ("predicted", predicted)]
    out = []
    for field, ids in chunks:
        for i in range(0, len(ids), MARK_CHUNK):
            out.append(Record(MARK_KIND, f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}",
                              {field: list(ids[i:i + MARK_CHUNK])}))
    records.put_many(out)


def stamps(records: RecordStore, areas: Iterable[str]) -> tuple[str, ...]:
    """The current token of each area ("" for one never written), in one read."""
    areas = tuple(areas)
    found = records.get_many(KIND, areas)
    return tuple(str(found[a].body.get("token", "")) if a in found else "" for a in areas)
