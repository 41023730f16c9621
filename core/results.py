"""The Results view's data: each item's final labels (human or auto), agreement among people and with the model,
and the speech model's accuracy on the transcripts people reviewed."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from core import changes
from core.agreement import AgreementReport, BlindComparison, TranscriptAccuracy
from core.answers import Answers
from core.catalog import Catalog
from core.consolidation import KIND as CONSOLIDATED_KIND
from core.consolidation import Consolidated, Consolidation, final_labels
from core.domain import Prediction, Workflow, as_dict, from_dict
from core.loops import Loops
from core.predictions import Predictions
from core.result_totals import ResultTotals
from core.routing_policy import DEFAULT_THRESHOLD
from core.stores.base import Record
from core.transcripts import Transcripts
from core.workflows import Workflows

VIEW_KIND = "results_view"
ALL = "*"  # the view key of "All workflows" (no workflow is named "*")
ITEMS_SHOWN = 50  # rows per page of the items table, newest first; the exports hold every result
STAMPED = (changes.ANSWERS, changes.LOOPS, changes.RESULTS, changes.TRANSCRIPTS, changes.WORKFLOWS)


@dataclass(frozen=True)
class ItemResult:
    media_id: str
    file_name: str
    human_labels: tuple[str, ...]  # consolidated decisions of people
    auto_labels: tuple[str, ...]  # the model's, at or above the threshold, on labels nobody reviewed
    reviewers: tuple[str, ...]
    confidence: float | None  # consolidation confidence (None: not reviewed)
    boxes: int
    workflow: str


@dataclass(frozen=True)
class ResultsSummary:
    """What the Results page counts, each saying whether it counts items or human loops."""
    items: int  # media items with a result (an item reviewed in two workflows counts once)
    results: int  # (workflow, item) results: one row each in the items table
    loops_completed: int  # human loops whose answers are all in
    loops_open: int  # human loops still waiting for answers

    @property
    def is_empty(self) -> bool:
        return not (self.results or self.loops_completed or self.loops_open)


@dataclass(frozen=True)
class ResultsView:
    """Every figure the Results page shows for one workflow (or all), as of the change stamps in `signature`."""
    signature: tuple[str, ...]
    summary: ResultsSummary
    agreement: AgreementReport
    blind: BlindComparison
    transcripts: TranscriptAccuracy
    items: tuple[ItemResult, ...]  # the newest ITEMS_SHOWN (workflow, item) results, newest first
    more: str | None = None  # the page cursor of the next (older) results, for `items_page`; None: no more


class Results:
    """The Results page's figures, derived from totals kept as items change (core/result_totals.py) and one page of
    the newest results, and kept in the store (record kind "results_view", one per workflow and one for all) with the
    change stamps they were computed at. A page load, in any app process, reads the stamps and the stored view: a few
    key reads, whatever the store holds. After a change, the next load refreshes only the items changed since."""

    def __init__(self, workflows: Workflows, loops: Loops, answers: Answers, predictions: Predictions,
                 consolidation: Consolidation, catalog: Catalog, transcripts: Transcripts):
        self.workflows = workflows
        self.loops = loops
        self.answers = answers
        self.predictions = predictions
        self.consolidation = consolidation
        self.catalog = catalog
        self.transcripts_store = transcripts
        self.records = loops.records
        self.totals = ResultTotals(self.records, workflows, loops, answers, predictions, consolidation, transcripts)
        self._memo: dict[str, ResultsView] = {}
        self._lock = threading.Lock()

    def _signature(self) -> tuple[str, ...]:
        return changes.stamps(self.records, STAMPED) + (self.predictions.signature(),)

    def view(self, *, workflow: str | None = None) -> ResultsView:
        """The figures for this workflow (None: all), from this process's memo, the store, or computed afresh."""
        key = workflow or ALL
        signature = self._signature()  # before any record is read (core/changes.py)
        with self._lock:
            cached = self._memo.get(key)
        if cached is not None and cached.signature == signature:
            return cached
        rec = self.records.get(VIEW_KIND, key)
        view = None
        if rec is not None and tuple(rec.body.get("signature", ())) == signature:
            try:
                view = from_dict(ResultsView, rec.body["view"])
            except (KeyError, TypeError, ValueError):  # written by another version of Loupe: computed again
                view = None
        if view is None:
            view = self._compute(workflow, signature)
            self.records.put_many([Record(VIEW_KIND, key, {"signature": list(signature), "view": as_dict(view)})])
        with self._lock:
            self._memo[key] = view
        return view

    def items(self, *, workflow: str | None = None) -> tuple[ItemResult, ...]:
        return self.view(workflow=workflow).items

    def summary(self, *, workflow: str | None = None) -> ResultsSummary:
        return self.view(workflow=workflow).summary

    def agreement(self, *, workflow: str | None = None) -> AgreementReport:
        return self.view(workflow=workflow).agreement

    def blind(self, *, workflow: str | None = None) -> BlindComparison:
        return self.view(workflow=workflow).blind

    def transcripts(self, *, workflow: str | None = None) -> TranscriptAccuracy:
        """1 - WER of the model's transcript against the reviewed version, over every reviewed transcript (or
        those of the workflow's loops)."""
        return self.view(workflow=workflow).transcripts

    def recount(self) -> None:
        """Sum every item's part of the figures again (the repair after a crash between a write and its totals)."""
        self.totals.recount()

    def _compute(self, workflow: str | None, signature: tuple[str, ...]) -> ResultsView:
        """The figures from the totals kept as items change (core/result_totals.py), brought up to date with the items
        changed since; the items table from one page of the newest results."""
        figures = self.totals.read(workflow or ALL)
        counts = self.loops.counts()
        status = lambda s: sum(v for k, v in counts.items()  # noqa: E731
                               if k.split("|")[-1] == s and len(k.split("|")) == 2
                               and (workflow is None or k.split("|")[0] == workflow))
        summary = ResultsSummary(figures.items, figures.results, status("Completed"), status("InProgress"))
        items, more = self.items_page(workflow=workflow)
        return ResultsView(signature, summary, figures.agreement, figures.blind, figures.transcripts, items, more)

    def items_page(self, *, workflow: str | None = None, after: str | None = None
                   ) -> tuple[tuple[ItemResult, ...], str | None]:
        """ITEMS_SHOWN (workflow, item) results, newest first, after the cursor `after` (None: the newest), and the
        cursor of the page after them (None: no more): one index range of the results, never all of them."""
        page = self.records.page(CONSOLIDATED_KIND, parent=workflow, order="sort", descending=True, after=after,
                                 limit=ITEMS_SHOWN)
        newest = [from_dict(Consolidated, r.body) for r in page.records if "|" in r.key]
        by_name = {wf.name: wf for wf in self.workflows.list()}
        predictions = self.predictions.get_many({c.media_id for c in newest}, consistent=False)  # a list
        return self._items(newest, by_name, predictions), page.cursor

    def _items(self, consolidated: list[Consolidated], by_name: dict[str, Workflow],
               predictions: dict[str, Prediction]) -> tuple[ItemResult, ...]:
        names = self.catalog.get_many({c.media_id for c in consolidated}, consistent=False)
        out = []
        for c in consolidated:
            threshold = by_name[c.workflow].routing.accept_at if c.workflow in by_name else DEFAULT_THRESHOLD
            finals = final_labels(predictions.get(c.media_id), c, threshold)
            item = names.get(c.media_id)
            out.append(ItemResult(c.media_id, item.file_name if item else c.media_id[:12],
                                  tuple(f.name for f in finals if f.source == "human"),
                                  tuple(f.name for f in finals if f.source == "auto"), c.reviewers, c.confidence,
                                  len(c.boxes), c.workflow))
        return tuple(out)
