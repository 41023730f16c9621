"""Results totals: what each media item adds to the Results figures, kept up to date as items change, so a Results
load reads a few counters instead of every loop, answer and result in the store.

An item's part (its row: record kind "result_row", key media_id) is a set of whole numbers per scope, a workflow or
"*" for all workflows: its results, each reviewer's tasks, label decisions and seconds, the yes/no pairs that
Krippendorff's α and Cohen's κ are computed from, the model's hits and misses, blind-review overlaps, and its
reviewed transcript's error rate in billionths. A scope's totals are the sum of every row, kept in store counters
(`add_counts`: exact under concurrent writers). Every figure the page shows is a function of those sums alone
(`derive`), so the counters and a full recount give the very same figures.

A write leaves a mark naming the item (core/changes.py). The next Results load refreshes the marked items: it reads
an item's row, then the item's loops, answers, results, prediction and transcript, writes the new row only if the
row's version is still the one it read (otherwise it reads again), and adds the difference to the counters. Two
processes refreshing one item count it once, and a change costs a few key reads per item it touched, whatever the
store holds. An item's loops count from its first answer or result.

A crash between a row's write and its counters' update leaves the totals off: `recount` sums every item again. It
runs from Results' "Re-consolidate", the first time a store is used, and after a workflow's threshold changes (the
model's figures in that workflow are measured at its threshold).
"""
from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations

from core import changes
from core.agreement import (
    AgreementReport,
    BlindComparison,
    ModelAccuracy,
    PairKappa,
    ReviewerStats,
    TranscriptAccuracy,
    kappa_from_counts,
)
from core.answers import Answers
from core.consolidation import KIND as RESULT_KIND
from core.consolidation import Consolidated, Consolidation, result_key
from core.domain import Answer, HumanLoop, Prediction, from_dict
from core.errors import AlreadyExists, NotFound, VersionConflict
from core.loops import Loops, loop_id_for
from core.predictions import KIND as PREDICTION_KIND
from core.predictions import Predictions
from core.routing_policy import DEFAULT_THRESHOLD
from core.stores.base import Record, RecordStore
from core.task_types import answer_labels
from core.task_types.transcript_review import is_transcript_answer
from core.transcripts import Transcripts
from core.workflows import Workflows

log = logging.getLogger(__name__)

ALL = "*"
ROW_KIND = "result_row"
META = ("result_totals", "meta")  # (kind, key): counted at all, the thresholds counted at, the counters written
NANO = 1_000_000_000  # transcript error rates are summed in billionths, so sums are exact whole numbers
SEP = "\t"  # field name separator: reviewer names may hold '|'
MARK_PAGE = 500
POINT_READS = 2_000  # newly predicted items looked up key by key; past this, the rows are read in one pass instead

Counts = dict[str, dict[str, int]]  # counter name -> field -> count


def totals_name(scope: str) -> str:
    return f"results|{scope}"


def times_name(scope: str, worker: str) -> str:
    """One counter per scope and reviewer: seconds per answer in tenths -> answers, for the median."""
    return f"result_times|{scope}|{worker}"


def f(*parts: object) -> str:
    return SEP.join(map(str, parts))


ModelLabel = tuple[str, float, str]  # (name, confidence, category) of one label the model gave


def model_labels(prediction: Prediction | None) -> tuple[ModelLabel, ...]:
    return tuple((lb.name, lb.confidence, lb.category) for lb in (prediction.labels if prediction else ()))


def stored_model_labels(labels: list[dict]) -> tuple[ModelLabel, ...]:
    """The same from a stored prediction's labels, without building dataclasses (a recount reads thousands)."""
    return tuple((str(lb.get("name", "")), float(lb.get("confidence", 0.0)), str(lb.get("category", "general")))
                 for lb in labels)


@dataclass(frozen=True)
class ItemInputs:
    """Everything of one media item that the Results figures read."""
    media_id: str
    loops: tuple[HumanLoop, ...] = ()  # loops of the item with an answer or named by a result
    answers: Mapping[str, list[Answer]] = field(default_factory=dict)  # loop_id -> its answers
    results: Mapping[str, Consolidated] = field(default_factory=dict)  # workflow -> the item's result there
    labels: tuple[ModelLabel, ...] = ()  # the model's labels of the item (its prediction)
    wer: float | None = None  # the reviewed transcript's word error rate (None: not reviewed, or nothing to compare)


def tenths(seconds: float) -> int:
    return int(round(seconds * 10))


def _people(answers: list[Answer], cons: Consolidated | None) -> tuple[Counter, dict[str, Counter], bool]:
    """One (workflow, item)'s figures about people (whatever the threshold): totals, seconds per reviewer, and
    whether two or more people decided labels on it."""
    totals: Counter = Counter()
    times: dict[str, Counter] = {}
    picks: dict[str, set[str]] = {}
    for a in answers:
        w = a.worker_id
        totals[f"tasks{SEP}{w}"] += 1
        times.setdefault(w, Counter())[str(tenths(a.time_spent_s))] += 1
        if is_transcript_answer(a.content):
            totals[f"tx_tasks{SEP}{w}"] += 1
            continue
        picks[w] = set(answer_labels(a.content))
    for w in picks:
        totals[f"label{SEP}{w}"] += 1
    names = {d.name for d in cons.labels} if cons else set().union(*picks.values())
    decided = {d.name: d.is_accepted for d in cons.labels} if cons else {}
    sharing: set[tuple[str, str]] = set()
    workers = sorted(picks)
    for name in sorted(names):
        d = {w: name in picks[w] for w in workers}
        if len(d) >= 2:
            yes = sum(d.values())
            no = len(d) - yes
            totals[f("alpha", len(d), "11")] += yes * (yes - 1)
            totals[f("alpha", len(d), "00")] += no * (no - 1)
            totals[f("alpha", len(d), "01")] += yes * no
            if name in decided:
                for w, v in d.items():
                    totals[f"total{SEP}{w}"] += 1
                    totals[f"agree{SEP}{w}"] += v == decided[name]
        for wa, wb in combinations(workers, 2):
            totals[f("kappa", wa, wb, f"{int(d[wa])}{int(d[wb])}")] += 1
            sharing.add((wa, wb))
    for wa, wb in sharing:
        totals[f("shared", wa, wb)] += 1
    if cons is not None:
        totals["results"] += 1
    return totals, times, len(picks) >= 2


def _model(answers: list[Answer], cons: Consolidated | None, labels: tuple[ModelLabel, ...],
           threshold: float) -> Counter:
    """One (workflow, item)'s figures about the model at a threshold: hits and misses, blind-review overlaps."""
    totals: Counter = Counter()
    if cons is not None:
        said = {name for name, confidence, _ in labels if confidence >= threshold}
        for d in cons.labels:
            cell = ("tp" if d.is_accepted else "fp") if d.name in said else ("fn" if d.is_accepted else "tn")
            totals[f"model{SEP}{cell}"] += 1
    model = {name for name, confidence, category in labels if category == "general" and confidence >= threshold}
    for a in answers:
        if "isBlind" in a.content:
            people = set(answer_labels(a.content))
            totals[f("blind", int(bool(a.content["isBlind"])), len(model & people), len(model | people))] += 1
    return totals


def item_counts(item: ItemInputs, thresholds: Mapping[str, float]) -> Counts:
    """The item's part of every scope's totals: a pure function of the item's records and the thresholds."""
    out: dict[str, Counter] = {}
    loop_flows = {lp.workflow for lp in item.loops}
    has_result = has_multi = False
    for wf in sorted(loop_flows | set(item.results)):
        answers = [a for lp in sorted(item.loops, key=lambda lp: lp.loop_id) if lp.workflow == wf
                   for a in sorted(item.answers.get(lp.loop_id, ()), key=lambda a: a.worker_id)]
        cons = item.results.get(wf)
        threshold = thresholds.get(wf, DEFAULT_THRESHOLD)
        people, times, multi = _people(answers, cons)
        at_default = _model(answers, cons, item.labels, DEFAULT_THRESHOLD)
        mine = at_default if threshold == DEFAULT_THRESHOLD else _model(answers, cons, item.labels, threshold)
        for scope, model in ((wf, mine), (ALL, at_default)):
            totals = out.setdefault(totals_name(scope), Counter())
            totals.update(people)
            totals.update(model)
            for w, histogram in times.items():
                out.setdefault(times_name(scope, w), Counter()).update(histogram)
        out[totals_name(wf)]["items"] += cons is not None
        out[totals_name(wf)]["multi"] += multi
        if item.wer is not None and wf in loop_flows:
            _add_wer(out[totals_name(wf)], item.wer)
        has_result |= cons is not None
        has_multi |= multi
    if item.wer is not None:
        _add_wer(out.setdefault(totals_name(ALL), Counter()), item.wer)
    if has_result or has_multi:
        totals = out.setdefault(totals_name(ALL), Counter())
        totals["items"] += has_result
        totals["multi"] += has_multi
    return {name: {k: int(v) for k, v in sorted(c.items()) if v} for name, c in sorted(out.items())
            if any(c.values())}


def _add_wer(totals: Counter, wer: float) -> None:
    totals[f("tx", "n")] += 1
    totals[f("tx", "wer")] += int(round(wer * NANO))
    totals[f("tx", "acc")] += int(round(max(0.0, 1.0 - wer) * NANO))


def difference(old: Counts, new: Counts) -> Counts:
    out: Counts = {}
    for name in set(old) | set(new):
        a, b = old.get(name, {}), new.get(name, {})
        delta = {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b)}
        if any(delta.values()):
            out[name] = {k: v for k, v in delta.items() if v}
    return out


# ---- from totals to figures ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figures:
    results: int
    items: int
    agreement: AgreementReport
    blind: BlindComparison
    transcripts: TranscriptAccuracy


def _fields(totals: Mapping[str, int], head: str) -> Iterable[tuple[list[str], int]]:
    for k, v in totals.items():
        parts = k.split(SEP)
        if parts[0] == head and v:
            yield parts[1:], v


def median_tenths(histogram: Mapping[str, int]) -> float | None:
    values = sorted((int(k), v) for k, v in histogram.items() if v > 0)
    n = sum(v for _, v in values)
    if not n:
        return None
    wanted = [(n - 1) // 2, n // 2]
    found, seen = [], 0
    for value, count in values:
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return round(statistics.fmean(found) / 10, 2)


def alpha_from(totals: Mapping[str, int]) -> float | None:
    """Nominal Krippendorff's α from the coincidence counts, exactly (fractions): 1 − (n−1)·o₀₁ / (n₀·n₁)."""
    o = {"00": Fraction(0), "01": Fraction(0), "11": Fraction(0)}
    for (m, cell), v in _fields(totals, "alpha"):
        o[cell] += Fraction(v, int(m) - 1)
    n1, n0 = o["11"] + o["01"], o["00"] + o["01"]
    if not n0 or not n1:
        return None
    return round(float(1 - (n0 + n1 - 1) * o["01"] / (n0 * n1)), 4)


def _mean(pairs: list[tuple[Fraction, int]]) -> float | None:
    n = sum(c for _, c in pairs)
    return round(float(sum(x * c for x, c in pairs) / n), 4) if n else None


def derive(totals: Mapping[str, int], times: Mapping[str, Mapping[str, int]]) -> Figures:
    """Every figure of one scope from its totals and its reviewers' time histograms."""
    get = lambda *parts: int(totals.get(f(*parts), 0))  # noqa: E731
    workers = sorted(p[0] for p, _ in _fields(totals, "tasks"))
    label_workers = sorted(p[0] for p, _ in _fields(totals, "label"))
    reviewers = tuple(ReviewerStats(w, get("tasks", w), median_tenths(times.get(w, {})),
                                    round(get("agree", w) / get("total", w), 4) if get("total", w) else None,
                                    get("tx_tasks", w)) for w in workers)
    pairs = tuple(PairKappa(a, b, get("shared", a, b), kappa_from_counts(get("kappa", a, b, "11"),
                                                                          get("kappa", a, b, "10"),
                                                                          get("kappa", a, b, "01"),
                                                                          get("kappa", a, b, "00")))
                  for a, b in combinations(label_workers, 2))
    tp, fp, fn, tn = (get("model", c) for c in ("tp", "fp", "fn", "tn"))
    n = tp + fp + fn + tn
    model = ModelAccuracy(n, round((tp + tn) / n, 4) if n else None, round(tp / (tp + fp), 4) if tp + fp else None,
                          round(tp / (tp + fn), 4) if tp + fn else None)
    report = AgreementReport(alpha_from(totals), pairs, reviewers, model, get("multi"))
    blind: dict[int, list[tuple[Fraction, int]]] = {0: [], 1: []}
    for (is_blind, inter, union), v in _fields(totals, "blind"):
        blind[int(is_blind)].append((Fraction(int(inter), int(union)) if int(union) else Fraction(1), v))
    comparison = BlindComparison(sum(c for _, c in blind[0]), _mean(blind[0]), sum(c for _, c in blind[1]),
                                 _mean(blind[1]))
    n_tx = get("tx", "n")
    transcripts = (TranscriptAccuracy(n_tx, round(get("tx", "acc") / NANO / n_tx, 4),
                                      round(get("tx", "wer") / NANO / n_tx, 4)) if n_tx
                   else TranscriptAccuracy(0, None, None))
    return Figures(get("results"), get("items"), report, comparison, transcripts)


# ---- keeping them -------------------------------------------------------------------------------------------
class ResultTotals:
    """The counters behind the Results figures: refreshed per marked item, recounted from every record on repair."""

    def __init__(self, records: RecordStore, workflows: Workflows, loops: Loops, answers: Answers,
                 predictions: Predictions, consolidation: Consolidation, transcripts: Transcripts):
        self.records = records
        self.workflows = workflows
        self.loops = loops
        self.answers = answers
        self.predictions = predictions
        self.consolidation = consolidation
        self.transcripts = transcripts

    def thresholds(self) -> dict[str, float]:
        return {wf.name: wf.routing.accept_at for wf in self.workflows.list()}

    def read(self, scope: str) -> Figures:
        """The scope's figures, after folding in every change marked since the last load."""
        self.bring_up_to_date()
        totals = self.records.counts(totals_name(scope))
        workers = sorted(p[0] for p, _ in _fields(totals, "tasks"))
        return derive(totals, {w: self.records.counts(times_name(scope, w)) for w in workers})

    def bring_up_to_date(self) -> None:
        thresholds = self.thresholds()
        meta = self.records.get(*META)
        counted = meta.body.get("thresholds", {}) if meta is not None and meta.body.get("counted") else None
        if meta is None or counted is None or any(
                thresholds.get(wf, DEFAULT_THRESHOLD) != counted.get(wf, DEFAULT_THRESHOLD)
                for wf in set(thresholds) | set(counted)):
            self.recount(is_stamped=False)
            return
        if set(thresholds) - set(counted):  # a new workflow: its items are counted at its threshold from now on
            try:
                self.records.put(*META, {**meta.body, "thresholds": {**counted, **thresholds}},
                                 expected_version=meta.version)
            except VersionConflict:
                pass  # another process wrote it meanwhile
        self.fold(thresholds)

    def fold(self, thresholds: Mapping[str, float]) -> int:
        """Refresh every item a mark names, then remove those marks; returns the items refreshed."""
        marks = self._marks()
        if not marks:
            return 0
        extra: dict[str, set[str]] = {}
        loop_ids: set[str] = set()
        predicted: set[str] = set()
        for rec in marks:
            for m in rec.body.get("media", []):
                extra.setdefault(m, set())
            loop_ids.update(rec.body.get("loops", []))
            predicted.update(rec.body.get("predicted", []))
        for lp in self.loops.get_many(loop_ids).values():
            extra.setdefault(lp.media_id, set()).add(lp.loop_id)
        predicted -= set(extra)
        if len(predicted) > POINT_READS:  # a big import: one pass over the rows (one per reviewed item) reads less
            counted = {r.key for r in self.records.query(ROW_KIND)} & predicted
        else:
            counted = set(self.records.get_many(ROW_KIND, predicted))
        for m in counted:  # a new prediction changes only the figures of items counted already
            extra.setdefault(m, set())
        for media_id in sorted(m for m in extra if m):
            self.refresh(media_id, extra[media_id], thresholds)
        for rec in marks:
            try:
                self.records.delete(changes.MARK_KIND, rec.key)
            except NotFound:  # another process folded it too
                pass
        return len(extra)

    def _marks(self) -> list[Record]:
        out: list[Record] = []
        cursor: str | None = None
        while True:
            page = self.records.page(changes.MARK_KIND, after=cursor, limit=MARK_PAGE)
            out.extend(page.records)
            if page.cursor is None:
                return out
            cursor = page.cursor

    def refresh(self, media_id: str, loop_ids: Iterable[str] = (), thresholds: Mapping[str, float] | None = None
                ) -> None:
        """Count the item again and add the difference to the totals, once, whatever other processes do meanwhile."""
        thresholds = self.thresholds() if thresholds is None else thresholds
        for _ in range(10):
            row = self.records.get(ROW_KIND, media_id)  # before the item's records (see the module docstring)
            old: Counts = row.body.get("counts", {}) if row else {}
            known = set(row.body.get("loops", [])) if row else set()
            flows = {name.split("|", 1)[1] for name in old if name.startswith("results|")} | set(thresholds)
            item = self._inputs(media_id, known | set(loop_ids) | {loop_id_for(wf, media_id) for wf in flows}, flows)
            new = item_counts(item, thresholds)
            body = {"counts": new, "loops": sorted(lp.loop_id for lp in item.loops)}
            if (row.body if row else {"counts": {}, "loops": []}) == body:
                return
            try:
                if row is None:
                    self.records.create(ROW_KIND, media_id, body)
                else:
                    self.records.put(ROW_KIND, media_id, body, expected_version=row.version)
            except (AlreadyExists, VersionConflict):
                continue
            for name, deltas in difference(old, new).items():
                self.records.add_counts(name, deltas)
            return
        log.warning("media %s kept changing: the Results totals miss its last change until a recount", media_id[:12])

    def _inputs(self, media_id: str, loop_ids: set[str], flows: set[str]) -> ItemInputs:
        loops = {k: lp for k, lp in self.loops.get_many(loop_ids).items() if lp.media_id == media_id}
        keys = [result_key(wf, media_id) for wf in sorted(flows | {lp.workflow for lp in loops.values()})]
        results = {c.workflow: c for c in (from_dict(Consolidated, r.body)
                                           for r in self.records.get_many(RESULT_KIND, keys).values())}
        named = {lid for c in results.values() for lid in c.loop_ids}
        if named - set(loops):
            loops.update({k: lp for k, lp in self.loops.get_many(named - set(loops)).items()
                          if lp.media_id == media_id})
        answers = {lid: self.answers.for_loop(lid) for lid in sorted(loops)}
        counted = tuple(loops[lid] for lid in sorted(loops) if answers[lid] or lid in named)
        wer = (self.transcripts.word_error_rate(media_id)
               if self.transcripts.review_state(media_id).reviewed_number > 0 else None)
        return ItemInputs(media_id, counted, {lp.loop_id: answers[lp.loop_id] for lp in counted}, results,
                          model_labels(self.predictions.get(media_id)), wer)

    def recount(self, *, is_stamped: bool = True) -> Counts:
        """Count every item again from every record, replacing rows and counters: the repair after a crash between a
        write and its totals, and the first count of a store. Run it when results are not being written.
        `is_stamped`: mark Results changed, so that views stored before (in any process) are computed again; a view
        that recounts on its way needs no stamp (a threshold change has stamped the workflows already)."""
        marks = self._marks()
        thresholds = self.thresholds()
        loops: dict[str, HumanLoop] = {lp.loop_id: lp for lp in self.loops.list()}
        answers: dict[str, list[Answer]] = {}
        for a in self.answers.all():
            answers.setdefault(a.loop_id, []).append(a)
        results: dict[str, dict[str, Consolidated]] = {}
        for rec in self.records.query(RESULT_KIND):
            if "|" not in rec.key:
                continue
            c = from_dict(Consolidated, rec.body)
            results.setdefault(c.media_id, {})[c.workflow] = c
            if rec.sort != c.updated_at:  # written before results were paged newest first
                try:
                    self.records.put(RESULT_KIND, rec.key, rec.body, expected_version=rec.version, parent=rec.parent,
                                     sort=c.updated_at)
                except VersionConflict:
                    pass
        by_media: dict[str, list[HumanLoop]] = {}
        for lp in loops.values():
            by_media.setdefault(lp.media_id, []).append(lp)
        reviewed = self.transcripts.reviewed_ids()
        media = ({m for m, lps in by_media.items() if any(answers.get(lp.loop_id) for lp in lps)} | set(results)
                 | reviewed)
        labels = {k: stored_model_labels(r.body.get("labels") or [])
                  for k, r in self.records.get_many(PREDICTION_KIND, media).items()}
        rows: dict[str, Counts] = {}
        totals: Counts = {}
        for m in sorted(media):
            named = {lid for c in results.get(m, {}).values() for lid in c.loop_ids}
            counted = tuple(sorted((lp for lp in by_media.get(m, []) if answers.get(lp.loop_id) or
                                    lp.loop_id in named), key=lambda lp: lp.loop_id))
            wer = self.transcripts.word_error_rate(m) if m in reviewed else None
            item = ItemInputs(m, counted, {lp.loop_id: answers.get(lp.loop_id, []) for lp in counted},
                              results.get(m, {}), labels.get(m, ()), wer)
            counts = item_counts(item, thresholds)
            if counts:
                rows[m] = counts
                by_media[m] = list(counted)
            for name, fields in counts.items():
                into = totals.setdefault(name, {})
                for k, v in fields.items():
                    into[k] = into.get(k, 0) + v
        old_rows = {r.key: r for r in self.records.query(ROW_KIND)}
        names = set(totals) | set((self.records.get(*META) or Record(*META, {})).body.get("counters", []))
        names |= {name for r in old_rows.values() for name in r.body.get("counts", {})}
        self.records.put_many([Record(ROW_KIND, m, {"counts": c, "loops": sorted(lp.loop_id for lp in by_media[m])},
                                      version=old_rows[m].version + 1 if m in old_rows else 1)
                               for m, c in rows.items()])
        for key in set(old_rows) - set(rows):
            try:
                self.records.delete(ROW_KIND, key)
            except NotFound:
                pass
        for name in sorted(names):
            self.records.set_counts(name, totals.get(name, {}))
        self.records.put_many([Record(*META, {"counted": True, "thresholds": thresholds, "counters": sorted(names)},
                                      version=(self.records.get(*META) or Record(*META, {}, version=0)).version + 1)])
        for rec in marks:  # every change they name was read above
            try:
                self.records.delete(changes.MARK_KIND, rec.key)
            except NotFound:
                pass
        if is_stamped:  # views stored before, in any process, are out of date
            changes.stamp(self.records, changes.RESULTS)
        log.info("recounted the Results totals of %d items", len(rows))
        return totals
