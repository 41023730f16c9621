"""Evidence: precision/recall/F1 of auto-accept from people's answers, review load, and recommended thresholds."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.domain import Answer
from core.evidence import (
    ALL_LABELS,
    current_metrics,
    curve,
    label_curves,
    median_seconds_per_task,
    recommend,
    review_load,
    reviewed_rows,
)
from core.routing import build_frames, route, share_curve
from core.routing_policy import Thresholds


def frame_of(items):
    return build_frames([(m, [{"name": n, "confidence": c, "category": "moderation"} for n, c in labels])
                         for m, labels in items.items()])["moderation"]


ITEMS = {
    "a": [("Weapons", 0.95), ("Drugs", 0.40)],
    "b": [("Weapons", 0.85)],
    "c": [("Weapons", 0.60)],
    "d": [("Weapons", 0.30)],
    "e": [("Drugs", 0.90)],  # not reviewed
}
# People: a has Weapons (not Drugs), b had no weapon, c has Weapons, d has Weapons and Smoking.
TRUTH = {"a": frozenset({"Weapons"}), "b": frozenset(), "c": frozenset({"Weapons"}),
         "d": frozenset({"Weapons", "Drugs"})}


def test_precision_and_recall_of_auto_accept_follow_the_threshold():
    reviewed = reviewed_rows(frame_of(ITEMS), TRUTH)
    assert reviewed.reviewed_items == 4 and reviewed.positives == {"Weapons": 3, "Drugs": 1}
    curves = label_curves(reviewed).set_index(["label", "threshold"])
    at_50 = curves.loc[("Weapons", 0.5)]  # accepts a (right), b (wrong), c (right)
    assert at_50["accepted"] == 3
    assert at_50["precision"] == pytest.approx(2 / 3) and at_50["recall"] == pytest.approx(2 / 3)
    assert at_50["f1"] == pytest.approx(2 / 3)
    at_90 = curves.loc[("Weapons", 0.9)]  # only a
    assert at_90["precision"] == 1.0 and at_90["recall"] == pytest.approx(1 / 3)
    at_0 = curves.loc[("Weapons", 0.0)]
    assert at_0["accepted"] == 4 and at_0["recall"] == 1.0
    assert math.isnan(curves.loc[("Weapons", 0.99)]["precision"])  # nothing accepted: undefined, not 0
    pooled = curves.loc[(ALL_LABELS, 0.5)]  # a:Weapons ok, b wrong, c ok (Drugs 0.40 below)
    assert pooled["accepted"] == 3 and pooled["recall"] == pytest.approx(2 / 4)


def test_a_threshold_equal_to_a_confidence_accepts_that_label():
    c = curve(np.array([50.0, 70.0]), np.array([True, False]), positives=1, grid_pct=np.array([50.0, 50.01]))
    assert list(c["accepted"]) == [2, 1] and list(c["true_positives"]) == [1, 0]


def test_metrics_at_the_current_setting_use_per_label_thresholds():
    frame = frame_of(ITEMS)
    routed = route(frame, Thresholds(high=0.5, overrides=(("Weapons", 0, 0.9),)))
    metrics = current_metrics(routed, reviewed_rows(frame, TRUTH)).set_index("label")
    assert metrics.loc["Weapons", "threshold"] == pytest.approx(0.9)
    assert metrics.loc["Weapons", "precision"] == 1.0 and metrics.loc["Weapons", "accepted"] == 1
    assert metrics.loc["Drugs", "accepted"] == 0 and math.isnan(metrics.loc["Drugs", "precision"])
    assert metrics.loc[ALL_LABELS, "kept_by_people"] == 4


def test_recommend_finds_the_lowest_threshold_reaching_the_target_and_its_review_load():
    frame = frame_of(ITEMS)
    routed = route(frame, Thresholds(high=0.5))
    curves = label_curves(reviewed_rows(frame, TRUTH))
    table = recommend(curves, routed, 0.99, task_count=2, seconds_per_task=60).set_index("label")
    assert table.loc["Weapons", "recommended"] == pytest.approx(0.86)  # just above b's wrong 0.85
    assert table.loc["Weapons", "labels_to_review"] == 3  # b, c and d fall below 0.86
    assert table.loc["Weapons", "reviewer_minutes"] == pytest.approx(3 * 2 * 60 / 60)
    assert table.loc["Drugs", "recommended"] is None or math.isnan(table.loc["Drugs", "recommended"])
    assert "no threshold reaches" in table.loc["Drugs", "note"]


def test_review_minutes_use_the_measured_median_time_when_there_is_one():
    answers = [Answer("l1", "w1", time_spent_s=10), Answer("l2", "w2", time_spent_s=50),
               Answer("l3", "w3", time_spent_s=0),
               Answer("l4", "w4", time_spent_s=20)]
    median = median_seconds_per_task(a.time_spent_s for a in answers)
    assert median == 20
    load = review_load(30, 120, task_count=2, seconds_per_task=median)
    assert load.reviewer_minutes == pytest.approx(30 * 2 * 20 / 60) and load.share == 0.25 and load.is_measured
    assumed = review_load(30, 120, task_count=1, seconds_per_task=median_seconds_per_task([]))
    assert not assumed.is_measured and assumed.reviewer_minutes > 0


def test_the_share_sent_to_people_grows_with_the_accept_threshold():
    frame = frame_of(ITEMS)
    shares = share_curve(frame, Thresholds(high=0.5), audit_percent=0)
    assert shares["share"].is_monotonic_increasing
    assert shares.iloc[0]["share"] == 0 and shares.iloc[-1]["share"] == 1.0
