"""Threshold routing: bands, item routing, audit sampling, and conditions written from thresholds."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.conditions import evaluate, validate_conditions
from core.domain import Label, Prediction, Workflow
from core.errors import LoupeError
from core.routing import ACCEPT, DROP, REVIEW, build_frames, conditions_for, route, workflow_with_thresholds
from core.routing_policy import Thresholds

NAMES = ["Suggestive", "Weapons", "Drugs", "Smoking", "Gambling"]


def raw(items: dict[str, list[tuple[str, float]]], category: str = "moderation") -> list[tuple[str, list[dict]]]:
    return [(mid, [{"name": n, "confidence": c, "category": category} for n, c in labels])
            for mid, labels in items.items()]


def frame_of(items: dict[str, list[tuple[str, float]]]):
    return build_frames(raw(items))["moderation"]


confidence = st.one_of(st.floats(min_value=0, max_value=1), st.sampled_from([0.0, 0.29, 0.5, 0.57, 0.8, 1.0]))
threshold = st.one_of(st.floats(min_value=0, max_value=1), st.sampled_from([0.0, 0.29, 0.5, 0.57, 0.8, 1.0]))
items_strategy = st.dictionaries(
    st.text(alphabet="abcdef0123456789", min_size=4, max_size=12),
    st.lists(st.tuples(st.sampled_from(NAMES), confidence), max_size=5, unique_by=lambda t: t[0]),
    min_size=1, max_size=25)


@st.composite
def policies(draw) -> Thresholds:
    mode = draw(st.sampled_from(["review_below", "drop_below", "drop_review_accept"]))
    a, b = draw(threshold), draw(threshold)
    overrides = []
    for name in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3)):
        x, y = draw(threshold), draw(threshold)
        overrides.append((name, min(x, y), max(x, y)))
    return Thresholds(high=max(a, b), low=min(a, b), mode=mode, overrides=tuple(overrides))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items_strategy, policies())
def test_each_label_lands_in_exactly_one_band(items, thresholds):
    routed = route(frame_of(items), thresholds)
    n_labels = sum(len(v) for v in items.values())
    assert set(np.unique(routed.label_band)) <= {ACCEPT, REVIEW, DROP}
    assert sum(routed.counts()["labels"].values()) == n_labels == len(routed.label_band)
    assert sum(routed.counts()["items"][b] for b in ("accept", "review", "drop")) == len(items)


@settings(max_examples=200, deadline=None)
@given(items_strategy, policies(), st.floats(min_value=0, max_value=1))
def test_raising_a_threshold_never_moves_a_label_from_review_to_accept(items, thresholds, raise_by):
    frame = frame_of(items)
    before = route(frame, thresholds).label_band
    raised = Thresholds(high=min(1.0, thresholds.high + raise_by), low=thresholds.low, mode=thresholds.mode,
                        overrides=tuple((n, lo, min(1.0, hi + raise_by)) for n, lo, hi in thresholds.overrides))
    after = route(frame, raised).label_band
    assert not np.any((before == REVIEW) & (after == ACCEPT))
    assert not np.any((before != ACCEPT) & (after == ACCEPT))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items_strategy, policies(), st.sampled_from([0.0, 0.0, 5.0, 33.3, 100.0]))
def test_conditions_written_from_thresholds_route_exactly_like_the_thresholds(items, thresholds, audit_percent):
    frame = frame_of(items)
    routed = route(frame, thresholds, audit_percent)
    conditions = conditions_for(thresholds, frame.label_names, audit_percent)
    validate_conditions(conditions)
    for i, media_id in enumerate(frame.media_ids):
        evaluation = evaluate(conditions, frame.label_scores(i), media_id)
        assert evaluation.activated == bool(routed.needs_people[i]), (media_id, items[media_id], conditions)


def test_one_threshold_accepts_over_and_reviews_or_drops_under_as_in_the_seed():
    frame = frame_of({"img": [("Person", 0.997), ("School", 0.4786)]})
    review = route(frame, Thresholds(high=0.5, mode="review_below"))
    assert review.split(0) == {"accept": [("Person", pytest.approx(99.7))],
                               "review": [("School", pytest.approx(47.86))],
                               "drop": []}
    dropped = route(frame, Thresholds(high=0.5, mode="drop_below"))
    assert dropped.split(0)["drop"] == [("School", pytest.approx(47.86))]
    assert dropped.item_band[0] == ACCEPT and review.item_band[0] == REVIEW


def test_two_thresholds_make_three_bands_and_per_label_overrides_win():
    frame = frame_of({"a": [("Weapons", 0.95)], "b": [("Weapons", 0.7)], "c": [("Weapons", 0.2)],
                      "d": [("Drugs", 0.7)]})
    routed = route(frame, Thresholds(high=0.9, low=0.5, mode="drop_review_accept", overrides=(("Drugs", 0.1, 0.6),)))
    assert [routed.label_band[frame.rows_of(i)][0] for i in range(4)] == [ACCEPT, REVIEW, DROP, ACCEPT]
    assert routed.counts() == {"labels": {"accept": 2, "review": 1, "drop": 1},
                               "items": {"accept": 2, "review": 1, "drop": 1, "audit": 0, "to_people": 1}}
    table = routed.per_label().set_index("label")
    assert table.loc["Drugs", "high"] == pytest.approx(0.6) and table.loc["Weapons", "review"] == 1


def test_an_item_goes_to_review_if_any_label_needs_review():
    frame = frame_of({"x": [("Weapons", 0.99), ("Drugs", 0.6)], "y": [], "z": [("Drugs", 0.1)]})
    routed = route(frame, Thresholds(high=0.9, low=0.5, mode="drop_review_accept"))
    assert list(routed.item_band) == [REVIEW, DROP, DROP]
    assert routed.reasons(0) == ("Drugs",)


def test_audit_sample_takes_about_the_percentage_of_auto_accepted_items_and_is_stable():
    items = {f"m{i:05d}": [("Weapons", 0.99)] for i in range(4000)}
    frame = frame_of(items)
    routed = route(frame, Thresholds(high=0.5), audit_percent=10)
    assert 320 <= routed.is_audit.sum() <= 480
    assert np.array_equal(routed.is_audit, route(frame, Thresholds(high=0.5), audit_percent=10).is_audit)
    assert not np.any(routed.is_audit & (routed.item_band != ACCEPT))


def test_items_table_filters_by_band_and_label():
    frame = frame_of({"a": [("Weapons", 0.95)], "b": [("Weapons", 0.3), ("Drugs", 0.9)], "c": [("Drugs", 0.2)]})
    routed = route(frame, Thresholds(high=0.5))
    table, total = routed.items(band="review", label="Weapons")
    assert total == 1 and list(table["media_id"]) == ["b"]
    assert routed.items(band="accept", label="Drugs")[1] == 0
    table, total = routed.items(label="Weapons")
    assert list(table["media_id"]) == ["a", "b"] and table.loc[1, "labels"] == "Drugs 90.0%, Weapons 30.0%"
    assert routed.items(label="No such label")[1] == 0


def test_histogram_is_pre_binned_by_band():
    frame = frame_of({"a": [("Weapons", 0.95)], "b": [("Weapons", 0.31), ("Drugs", 0.3)]})
    hist = route(frame, Thresholds(high=0.5)).histogram(bin_pct=10)
    assert hist.to_dict("records") == [
        {"start_pct": 30.0, "end_pct": 40.0, "band": "review", "labels": 2},
        {"start_pct": 90.0, "end_pct": 100.0, "band": "accept", "labels": 1},
    ]


def test_thresholds_out_of_order_are_refused_in_plain_words():
    with pytest.raises(LoupeError, match="drop threshold .* is above the accept threshold"):
        Thresholds(high=0.4, low=0.6, mode="drop_review_accept")
    with pytest.raises(LoupeError, match="between 0 and 1"):
        Thresholds(high=1.5)


def test_thresholds_round_trip_through_json():
    t = Thresholds(high=0.8, low=0.3, mode="drop_review_accept", overrides=(("Weapons", 0.2, 0.95),),
                   category="general")
    assert Thresholds.from_json(t.as_json()) == t


def test_a_global_threshold_is_written_as_one_wildcard_check():
    conditions = conditions_for(Thresholds(high=0.29), ["A", "B"], audit_percent=5)
    assert conditions == {"Conditions": [
        {"ConditionType": "ModerationLabelConfidenceCheck",
         "ConditionParameters": {"ModerationLabelName": "*", "ConfidenceLessThan": 29.0}},
        {"And": [{"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 5}},
                 {"ConditionType": "ModerationLabelConfidenceCheck",
                  "ConditionParameters": {"ModerationLabelName": "*", "ConfidenceGreaterThanEquals": 29.0}}]}]}


def test_too_many_labels_for_a2i_keep_the_thresholds_without_conditions():
    names = [f"A rather long label name number {i}" for i in range(300)]
    wf = workflow_with_thresholds(Workflow(name="big"), Thresholds(high=0.5, overrides=((names[0], 0, 0.9),)), names)
    assert wf.routing.conditions == {} and wf.routing.thresholds.overrides


# --- with the real service and store -------------------------------------------------------------------------

def predictions(items: dict[str, list[tuple[str, float]]]) -> list[Prediction]:
    return [Prediction(mid, "test-model-1", tuple(Label(n, c, category="moderation") for n, c in labels))
            for mid, labels in items.items()]


def test_the_routing_frame_is_cached_until_predictions_change(service):
    service.predictions.save_many(predictions({"a": [("Weapons", 0.9)]}))
    first = service.routing.frame("moderation")
    assert service.routing.frame("moderation") is first
    service.predictions.save_many(predictions({"a": [("Weapons", 0.2)]}))  # same count, new content
    second = service.routing.frame("moderation")
    assert second is not first and second.confidence_pct[0] == pytest.approx(20.0)


def test_image_labels_come_first_among_the_categories_present_whatever_was_written_first(tmp_path):
    from core.config import Config
    from core.service import Service

    with Service(Config(data_dir=tmp_path), start_jobs=False) as service:
        service.predictions.save(Prediction("m1", "v1", (Label("Weapons", 0.7, category="moderation"),)))
        service.predictions.save(Prediction("m2", "v1", (Label("Cat", 0.9),)))
        assert service.routing.categories_present() == ["general", "moderation"]
