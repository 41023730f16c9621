"""Known label names (what the "add a label" box suggests): one small record per name, written as predictions and
answers are saved, read a page at a time, so listing them never reads a prediction.

Record kind "label_name", key = the name as written. A writer reads the keys of its batch's names in one call and
writes only those missing (an idempotent upsert: two processes adding the same name at once both write the same
record), then stamps the area `changes.LABEL_NAMES`, so a reader in any process knows its cached list is out of date
with one key read. One record per name, not one counter item holding every name: DynamoDB limits an update
expression to 4 KB, and a project can know thousands of names.

A store written before these records existed is listed once from its predictions and answers (`ensure_listed`, at
service start, with a marker record, and `python -m core recount` on demand); nothing scans on a page's rerun. An
empty store gets the marker with its first name: every process lists an older store at its start, before it writes.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from core import changes
from core.stores.base import Record, RecordStore

log = logging.getLogger(__name__)

KIND = "label_name"
LISTED_KIND = "label_names_listed"  # one record, key "all": the names of this store were listed from its records
LISTED_KEY = "all"
PAGE = 500  # names read per page
MAX_NAME_CHARS = 200  # as an imported label table allows (core/formats/label_table.py); DynamoDB keys stay small
SETTLE_S = 2.0  # DynamoDB's indexes trail a write by up to about a second: a list read this soon after is not kept
PREDICTION_KIND, ANSWER_KIND = "prediction", "answer"  # the kinds listed once (core.predictions, core.answers)


@dataclass(frozen=True)
class Listing:
    """What listing the names from every prediction and answer found (once per store, or on `recount`)."""
    names: int  # distinct names found
    added: int  # of those, names that had no record yet
    predictions: int  # prediction records read
    answers: int  # answer records read

    def summary(self) -> str:
        return (f"label names: {self.names} found in {self.predictions} prediction(s) and {self.answers} answer(s), "
                + (f"{self.added} were missing from the list and are listed now" if self.added else
                   "all were listed already"))


def clean_name(name: object) -> str:
    """The name as listed: surrounding spaces dropped; "" for a name that can't be listed (not text, empty, or longer
    than MAX_NAME_CHARS)."""
    text = name.strip() if isinstance(name, str) else ""
    return text if len(text) <= MAX_NAME_CHARS else ""


def answer_label_names(content: dict) -> set[str]:
    """The label names a reviewer's answer gives (label review answers; other task types give none)."""
    labels = content.get("labels") if isinstance(content, dict) else None
    return {str(lb["name"]) for lb in labels or () if isinstance(lb, dict) and "name" in lb}


def label_name_records(names: Iterable[str]) -> list[Record]:
    """The records that list these names (for bulk loads through `put_many`: benchmarks, fixtures)."""
    return [Record(KIND, n, {"name": n}) for n in sorted({clean_name(n) for n in names} - {""})]


class LabelNames:
    def __init__(self, records: RecordStore, clock=time.time):
        self.records = records
        self.clock = clock
        self._known: set[str] = set()  # names this process has seen stored: records are never removed
        self._cached: tuple[str, list[str]] | None = None  # (stamp token, names)
        self._is_marked = False  # this process wrote (or found) the marker `ensure_listed` looks for

    def note(self, names: Iterable[str]) -> int:
        """List these names if they are not listed yet; returns how many were new. One key read for the batch, and one
        write only when some name is new."""
        fresh = {clean_name(n) for n in names} - {""} - self._known
        if not fresh:
            return 0
        found = self.records.get_many(KIND, fresh, consistent=False)
        missing = fresh - found.keys()
        if missing:
            marker = [] if self._is_marked else [Record(LISTED_KIND, LISTED_KEY, {"at": self.clock()})]
            self.records.put_many(label_name_records(missing) + marker)
            self._is_marked = True
            changes.stamp(self.records, changes.LABEL_NAMES)
        self._known |= fresh
        return len(missing)

    def names(self) -> list[str]:
        """Every listed name, sorted: one stamp read while the list is unchanged, else a few pages of names."""
        # a stamp a moment old is fine (half the read capacity): an older token only makes a later read page again
        found = self.records.get_many(changes.KIND, [changes.LABEL_NAMES], consistent=False)
        stamp = found.get(changes.LABEL_NAMES)
        token = str(stamp.body.get("token", "")) if stamp else ""
        if self._cached is not None and self._cached[0] == token:
            return self._cached[1]
        names: list[str] = []
        cursor: str | None = None
        while True:
            page = self.records.page(KIND, after=cursor, limit=PAGE)
            names.extend(str(r.body.get("name", r.key)) for r in page.records)
            if page.cursor is None:
                break
            cursor = page.cursor
        names.sort()
        is_settled = stamp is None or self.clock() - float(stamp.body.get("at", 0.0)) > SETTLE_S
        self._cached = (token, names) if is_settled else None
        self._known |= set(names)
        return names

    def ensure_listed(self) -> Listing | None:
        """List the names of a store written before label-name records (once: a marker record says it was done).
        None when it was done already: one key read."""
        if self.records.get(LISTED_KIND, LISTED_KEY) is not None:
            self._is_marked = True
            return None
        if not any(self.records.page(kind, limit=1).records for kind in (PREDICTION_KIND, ANSWER_KIND)):
            return None  # an empty store stays empty: its first listed name writes the marker (`note`)
        listing = self.relist()
        if listing.predictions or listing.answers:
            log.info("this store predates the list of label names: %s", listing.summary())
        return listing

    def relist(self) -> Listing:
        """Read every prediction and answer once and list any name missing (a store from before the list, or a crash
        between a prediction's write and its names'). Writes the marker that `ensure_listed` looks for."""
        names: set[str] = set()
        predictions = answers = 0
        for rec in self.records.query(PREDICTION_KIND):
            predictions += 1
            names |= {str(lb["name"]) for lb in rec.body.get("labels") or () if isinstance(lb, dict) and "name" in lb}
        for rec in self.records.query(ANSWER_KIND):
            answers += 1
            names |= answer_label_names(rec.body.get("content") or {})
        listed = {clean_name(n) for n in names} - {""}
        self._known -= listed  # check each against the store, not this process's memory
        added = self.note(listed)
        self.records.put_many([Record(LISTED_KIND, LISTED_KEY, {"at": self.clock(), "names": len(listed)})])
        self._is_marked = True
        return Listing(len(listed), added, predictions, answers)
