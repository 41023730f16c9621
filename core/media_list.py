"""Media lists for the Images and Transcripts pages: one page of items at a time, searchable and sorted, read from
the store's indexes (newest or oldest first from the sort index, by name from the display-name records), never by
reading every item.

A filter (name, status, label, confidence) is applied to the items as they are read, in batches, and reading stops
after `max_read` items per page: a rare match on a big store then shows "searched N items so far" with a cursor to
search on, as DynamoDB's filtered queries do, instead of one rerun reading the whole store.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from core.catalog import KIND, NAME_KIND, Catalog
from core.domain import MEDIA_STATUSES, MediaItem, Prediction, from_dict
from core.predictions import KIND as PREDICTION_KIND
from core.stores.base import Record, RecordStore, cursor_of

ORDERS = {"newest": "Newest first", "oldest": "Oldest first", "name": "Name A→Z", "name_desc": "Name Z→A"}
PAGE_ROWS = 50  # rows per page of a list
MAX_READ = 2000  # items read per page when a filter drops some: bounds a rerun's cost whatever the store holds
BATCH = 250  # items read (and their predictions fetched) per store call while filtering


@dataclass(frozen=True)
class MediaFilter:
    kinds: tuple[str, ...] = ("image",)
    name: str = ""  # part of the file name, any case
    status: str = ""  # one of MEDIA_STATUSES, "" for any
    label: str = ""  # a predicted label's name, any case; "" for any
    min_confidence: float = 0.0  # of that label (or, with no label named, of the item's top label)
    max_confidence: float = 1.0
    order: str = "newest"  # a key of ORDERS

    @property
    def needs_predictions(self) -> bool:
        return bool(self.label.strip()) or self.min_confidence > 0.0 or self.max_confidence < 1.0

    @property
    def is_filtered(self) -> bool:
        return bool(self.name.strip() or self.status) or self.needs_predictions


@dataclass(frozen=True)
class MediaRow:
    item: MediaItem
    prediction: Prediction | None = None


@dataclass(frozen=True)
class MediaPage:
    rows: tuple[MediaRow, ...]
    cursor: str | None  # pass as `after` for the next page; None when nothing follows
    read: int  # items looked at to fill this page
    matches: int | None = None  # how many items match in all, when the counters know (no name or label filter)


class MediaList:
    def __init__(self, records: RecordStore, catalog: Catalog):
        self.records = records
        self.catalog = catalog

    def page(self, wanted: MediaFilter, *, after: str | None = None, limit: int = PAGE_ROWS,
             with_predictions: bool = False, max_read: int = MAX_READ) -> MediaPage:
        """Up to `limit` items matching `wanted` after the cursor, each with its prediction if asked for."""
        if wanted.order not in ORDERS:
            raise ValueError(f"Unknown order {wanted.order!r}; one of {', '.join(ORDERS)}.")
        if wanted.status and wanted.status not in MEDIA_STATUSES:
            raise ValueError(f"Unknown media status {wanted.status!r}.")
        matches = self._known_matches(wanted)
        if matches == 0:
            return MediaPage((), None, 0, 0)
        batch = max(BATCH, limit + 1) if wanted.is_filtered else limit + 1
        budget = max_read if wanted.is_filtered else limit + 1
        stream = self._stream(wanted, after, batch)
        rows: list[tuple[MediaRow, Record]] = []
        read, last_read, is_exhausted = 0, None, False
        while len(rows) <= limit and read < budget:
            want = min(batch, budget - read)
            chunk = list(itertools.islice(stream, want))
            read += len(chunk)
            if chunk:
                last_read = chunk[-1]
                rows.extend(self._matching(chunk, wanted, with_predictions))
            if len(chunk) < want:
                is_exhausted = True
                break
        order = self._order_of(wanted)
        if len(rows) > limit:  # a full page, and at least one more match after it
            cursor: str | None = cursor_of(rows[limit - 1][1], order)
        elif is_exhausted or last_read is None:
            cursor = None
        else:  # the read budget ran out first: search on after the last item read
            cursor = cursor_of(last_read, order)
        return MediaPage(tuple(row for row, _ in rows[:limit]), cursor, read, matches)

    def _known_matches(self, wanted: MediaFilter) -> int | None:
        """How many items match, from the counters, when only kind and status narrow the list."""
        if wanted.name.strip() or wanted.needs_predictions:
            return None
        counts = self.catalog.counts(wanted.kinds)
        return counts["by_status"][wanted.status] if wanted.status else counts["total"]

    # ---- reading in order ---------------------------------------------------------------------------
    @staticmethod
    def _order_of(wanted: MediaFilter) -> str:
        return "key" if wanted.order.startswith("name") else "sort"

    def _stream(self, wanted: MediaFilter, after: str | None, batch: int) -> Iterator[Record]:
        """Source records in the list's order: media records (sort index, per kind, merged), or name records."""
        descending = wanted.order in ("newest", "name_desc")
        if wanted.order.startswith("name"):
            sources = [self._pages(NAME_KIND, None, "key", after, batch, descending)]
            return sources[0]
        sources = [self._pages(KIND, kind, "sort", after, batch, descending) for kind in wanted.kinds]
        return heapq.merge(*sources, key=lambda r: (r.sort, r.key), reverse=descending)

    def _pages(self, kind: str, parent: str | None, order: str, after: str | None, batch: int,
               descending: bool) -> Iterator[Record]:
        cursor = after
        while True:
            page = self.records.page(kind, parent=parent, order=order, after=cursor, limit=batch,
                                     descending=descending)
            yield from page.records
            if page.cursor is None:
                return
            cursor = page.cursor

    # ---- filtering ----------------------------------------------------------------------------------
    def _matching(self, chunk: list[Record], wanted: MediaFilter,
                  with_predictions: bool) -> list[tuple[MediaRow, Record]]:
        """The chunk's items that match, each with the source record its cursor is cut from."""
        if chunk and chunk[0].kind == NAME_KIND:
            media = self.records.get_many(KIND, [r.body["media_id"] for r in chunk], consistent=False)
            pairs = [(media.get(r.body["media_id"]), r) for r in chunk]
        else:
            pairs = [(r, r) for r in chunk]
        items = [(from_dict(MediaItem, m.body), src) for m, src in pairs if m is not None]
        items = [(i, src) for i, src in items if _item_matches(i, wanted)]
        predictions: dict[str, Record] = {}
        if items and (with_predictions or wanted.needs_predictions):
            predictions = self.records.get_many(PREDICTION_KIND, [i.media_id for i, _ in items], consistent=False)
        out = []
        for item, src in items:
            rec = predictions.get(item.media_id)
            prediction = from_dict(Prediction, rec.body) if rec else None
            if wanted.needs_predictions and not _prediction_matches(prediction, wanted):
                continue
            out.append((MediaRow(item, prediction), src))
        return out


def _item_matches(item: MediaItem, wanted: MediaFilter) -> bool:
    if item.kind not in wanted.kinds:
        return False
    if wanted.status and item.status != wanted.status:
        return False
    return not wanted.name.strip() or wanted.name.strip().casefold() in item.file_name.casefold()


def _prediction_matches(prediction: Prediction | None, wanted: MediaFilter) -> bool:
    if prediction is None:
        return False
    name = wanted.label.strip().casefold()
    if name:
        scores = [lb.confidence for lb in prediction.labels if lb.name.casefold() == name]
    else:
        general = [lb.confidence for lb in prediction.labels if lb.category != "moderation"]
        scores = [max(general)] if general else []
    return any(wanted.min_confidence <= c <= wanted.max_confidence for c in scores)

