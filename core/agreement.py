"""Agreement: how far reviewers agree with each other and with the consensus, and how right the model was.

Each (item, label) pair a reviewer decided is a yes/no unit. Krippendorff's alpha (nominal, the `krippendorff`
package) covers any number of reviewers and missing answers; Cohen's kappa is computed per pair of reviewers.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from core.consolidation import Consolidated
from core.domain import Answer, HumanLoop, Prediction
from core.task_types import answer_labels
from core.task_types.transcript_review import is_transcript_answer


@dataclass(frozen=True)
class ReviewerStats:
    worker_id: str
    tasks_done: int
    median_time_s: float | None
    agreement: float | None  # share of label decisions matching the consensus (items with 2+ reviewers)
    transcripts_done: int = 0  # of tasks_done, transcript reviews (no label decisions in them)


@dataclass(frozen=True)
class PairKappa:
    worker_a: str
    worker_b: str
    shared_items: int
    kappa: float | None


@dataclass(frozen=True)
class ModelAccuracy:
    """The model's labels (at or above the threshold) against people's consolidated decisions."""
    decisions: int
    accuracy: float | None
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class AgreementReport:
    alpha: float | None  # Krippendorff's alpha, nominal; None when undefined (no variation or no overlap)
    pairs: tuple[PairKappa, ...]
    reviewers: tuple[ReviewerStats, ...]
    model: ModelAccuracy
    multi_reviewed_items: int  # media items that two or more reviewers answered (in any one workflow)


def cohen_kappa(a: list[bool], b: list[bool]) -> float | None:
    """Cohen's kappa for two raters' yes/no decisions on the same units; None if undefined (no variation)."""
    if len(a) != len(b):
        return None
    pairs = list(zip(a, b))
    return kappa_from_counts(pairs.count((True, True)), pairs.count((True, False)), pairs.count((False, True)),
                             pairs.count((False, False)))


def kappa_from_counts(yes_yes: int, yes_no: int, no_yes: int, no_no: int) -> float | None:
    """Cohen's kappa from the counts of each (rater A, rater B) decision pair."""
    n = yes_yes + yes_no + no_yes + no_no
    if n == 0:
        return None
    observed = (yes_yes + no_no) / n
    pa, pb = (yes_yes + yes_no) / n, (yes_yes + no_yes) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else None
    return round((observed - expected) / (1 - expected), 4)


def krippendorff_alpha(units: dict[tuple[Any, str], dict[str, bool]], workers: list[str]) -> float | None:
    """Nominal alpha over (item, label) units; a reviewer who did not see an item is a missing value."""
    import krippendorff

    if len(workers) < 2 or not units:
        return None
    data = np.full((len(workers), len(units)), np.nan)
    for j, decisions in enumerate(units.values()):
        for i, w in enumerate(workers):
            if w in decisions:
                data[i, j] = 1.0 if decisions[w] else 0.0
    paired = (~np.isnan(data)).sum(axis=0) >= 2
    if not paired.any() or len(np.unique(data[:, paired][~np.isnan(data[:, paired])])) < 2:
        return None
    try:
        value = float(krippendorff.alpha(reliability_data=data[:, paired], level_of_measurement="nominal"))
    except (ValueError, ZeroDivisionError):
        return None
    return None if math.isnan(value) else round(value, 4)


def measure(answers: Iterable[Answer], loops: Iterable[HumanLoop], consolidated: Iterable[Consolidated],
            predictions: dict[str, Prediction], threshold: float) -> AgreementReport:
    loop_item = {lp.loop_id: (lp.workflow, lp.media_id) for lp in loops}  # a result is per workflow and item
    by_item: dict[tuple[str, str], dict[str, set[str]]] = {}
    times: dict[str, list[float]] = {}
    transcripts: dict[str, int] = {}
    for a in answers:
        times.setdefault(a.worker_id, []).append(a.time_spent_s)
        if is_transcript_answer(a.content):  # counts as a task done, but holds no label decisions
            transcripts[a.worker_id] = transcripts.get(a.worker_id, 0) + 1
            continue
        item = loop_item.get(a.loop_id, ("", a.loop_id))
        by_item.setdefault(item, {})[a.worker_id] = set(answer_labels(a.content))
    cons = {(c.workflow, c.media_id): c for c in consolidated}
    units: dict[tuple[tuple[str, str], str], dict[str, bool]] = {}
    for item, picks in by_item.items():
        names = {d.name for d in cons[item].labels} if item in cons else set().union(*picks.values())
        for name in names:
            units[(item, name)] = {w: name in s for w, s in picks.items()}
    workers = sorted(times)
    label_workers = sorted({w for picks in by_item.values() for w in picks})  # a transcript review pairs with nobody
    pairs = []
    for wa, wb in combinations(label_workers, 2):
        shared = [d for d in units.values() if wa in d and wb in d]
        items = {k[0] for k, d in units.items() if wa in d and wb in d}
        pairs.append(PairKappa(wa, wb, len(items), cohen_kappa([d[wa] for d in shared], [d[wb] for d in shared])))
    reviewers = []
    for w in workers:
        agree = total = 0
        for (item, name), d in units.items():
            if w in d and len(d) >= 2 and item in cons:
                decision = next((x.is_accepted for x in cons[item].labels if x.name == name), None)
                if decision is not None:
                    total += 1
                    agree += d[w] == decision
        reviewers.append(ReviewerStats(w, len(times[w]), round(statistics.median(times[w]), 2),
                                       round(agree / total, 4) if total else None, transcripts.get(w, 0)))
    return AgreementReport(alpha=krippendorff_alpha(units, label_workers), pairs=tuple(pairs),
                           reviewers=tuple(reviewers),
                           model=model_accuracy(cons.values(), predictions, threshold),
                           multi_reviewed_items=len({item[1] for item, p in by_item.items() if len(p) >= 2}))


@dataclass(frozen=True)
class TranscriptAccuracy:
    """The speech model's transcripts against the versions people approved: 1 - WER, averaged over items."""
    items: int  # reviewed transcripts with a model version to compare
    accuracy: float | None  # mean of max(0, 1 - WER) per item
    mean_wer: float | None


def transcript_accuracy(wers: Iterable[float]) -> TranscriptAccuracy:
    values = list(wers)
    if not values:
        return TranscriptAccuracy(0, None, None)
    return TranscriptAccuracy(len(values), round(statistics.fmean(max(0.0, 1.0 - w) for w in values), 4),
                              round(statistics.fmean(values), 4))


def model_accuracy(consolidated: Iterable[Consolidated], predictions: dict[str, Prediction],
                   threshold: float) -> ModelAccuracy:
    tp = fp = fn = tn = 0
    for c in consolidated:
        pred = predictions.get(c.media_id)
        said = {lb.name for lb in (pred.labels if pred else ()) if lb.confidence >= threshold}
        for d in c.labels:
            model_yes = d.name in said
            if model_yes and d.is_accepted:
                tp += 1
            elif model_yes:
                fp += 1
            elif d.is_accepted:
                fn += 1
            else:
                tn += 1
    n = tp + fp + fn + tn
    return ModelAccuracy(n, round((tp + tn) / n, 4) if n else None, round(tp / (tp + fp), 4) if tp + fp else None,
                         round(tp / (tp + fn), 4) if tp + fn else None)


@dataclass(frozen=True)
class BlindComparison:
    """How closely label-review answers match the model's confident labels, with and without seeing them.

    A much higher match when the suggestions were shown than in blind tasks means reviewers follow the model.
    """
    shown_tasks: int
    shown_match: float | None  # mean Jaccard(reviewer labels, model labels at/above threshold)
    blind_tasks: int
    blind_match: float | None


def compare_blind(answers: Iterable[Answer], loops: Iterable[HumanLoop], predictions: dict[str, Prediction],
                  threshold: float) -> BlindComparison:
    loop_media = {lp.loop_id: lp.media_id for lp in loops}
    scores: dict[bool, list[float]] = {True: [], False: []}
    for a in answers:
        if "isBlind" not in a.content or a.loop_id not in loop_media:
            continue
        pred = predictions.get(loop_media[a.loop_id])
        model = {lb.name for lb in (pred.labels if pred else ())
                 if lb.category == "general" and lb.confidence >= threshold}
        people = set(answer_labels(a.content))
        union = model | people
        scores[bool(a.content["isBlind"])].append(len(model & people) / len(union) if union else 1.0)
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return BlindComparison(len(scores[False]), mean(scores[False]), len(scores[True]), mean(scores[True]))
