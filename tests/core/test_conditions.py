"""A2I activation conditions: validation messages, AWS's documented Rekognition examples, and sampling."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.conditions import (
    ConditionsError,
    LabelScore,
    evaluate,
    is_sampled,
    labels_from_response,
    parse_conditions,
    sample_point,
    validate_conditions,
)


def check(name: str, **bounds: float) -> dict:
    return {"ConditionType": "ModerationLabelConfidenceCheck",
            "ConditionParameters": {"ModerationLabelName": name, **bounds}}


def sampling(percent: float) -> dict:
    return {"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": percent}}


def labels(**scores: float) -> list[LabelScore]:
    return [LabelScore(name.replace("_", " "), pct) for name, pct in scores.items()]


def ids_sampled(percent: float, want: bool, n: int = 1) -> list[str]:
    """Item ids whose deterministic draw falls inside (want=True) or outside the sample."""
    found = []
    i = 0
    while len(found) < n:
        item = f"item-{i}"
        if is_sampled(item, percent) == want:
            found.append(item)
        i += 1
    return found


# --- AWS's documented examples for Rekognition (a2i-json-humantaskactivationconditions-rekognition-example) ---

EXAMPLE_1 = {"Conditions": [{"Or": [
    {"And": [check("Graphic Male Nudity", ConfidenceLessThanEquals=99),
             check("Graphic Male Nudity", ConfidenceGreaterThanEquals=90)]},
    {"And": [check("Graphic Female Nudity", ConfidenceLessThanEquals=99),
             check("Graphic Female Nudity", ConfidenceGreaterThanEquals=80)]}]}]}
EXAMPLE_2 = {"Conditions": [check("*", ConfidenceGreaterThanEquals=75)]}
EXAMPLE_3 = {"Conditions": [sampling(5)]}
EXAMPLE_4 = {"Conditions": [{"And": [sampling(5), check("Graphic Male Nudity", ConfidenceGreaterThan=50)]}]}
EXAMPLE_5 = {"Conditions": [{"Or": [check("Graphic Male Nudity", ConfidenceLessThan=60),
                                    {"And": [sampling(5), check("Graphic Male Nudity", ConfidenceGreaterThan=90)]}]}]}
EXAMPLE_6 = {"Conditions": [{"Or": [sampling(5), check("Graphic Male Nudity", ConfidenceGreaterThan=50)]}]}


@pytest.mark.parametrize("example", [EXAMPLE_1, EXAMPLE_2, EXAMPLE_3, EXAMPLE_4, EXAMPLE_5, EXAMPLE_6])
def test_every_documented_rekognition_example_is_valid(example):
    validate_conditions(example)
    assert parse_conditions(json.dumps(example, indent=4)) == example


@pytest.mark.parametrize("scores, expected", [
    ({"Graphic_Male_Nudity": 95.0}, True),  # between 90 and 99
    ({"Graphic_Male_Nudity": 99.5}, False),  # above 99
    ({"Graphic_Male_Nudity": 85.0}, False),  # below 90 for male
    ({"Graphic_Female_Nudity": 85.0}, True),  # between 80 and 99 for female
    ({"Graphic_Female_Nudity": 79.0}, False),
    ({"Explicit_Nudity": 95.0}, False),  # another label is not checked
])
def test_example_1_starts_a_loop_for_nudity_in_its_confidence_ranges(scores, expected):
    result = evaluate(EXAMPLE_1, labels(**scores), "img-1")
    assert result.activated is expected


def test_example_1_records_every_conditions_evaluation_result_as_a2i_does():
    result = evaluate(EXAMPLE_1, labels(Graphic_Female_Nudity=85.0), "img-1")
    outer = result.results["Conditions"][0]
    assert outer["EvaluationResult"] is True
    male, female = outer["Or"]
    assert male["EvaluationResult"] is False and female["EvaluationResult"] is True
    assert [c["EvaluationResult"] for c in female["And"]] == [True, True]
    assert female["And"][1] == {"ConditionType": "ModerationLabelConfidenceCheck",
                                "ConditionParameters": {"ModerationLabelName": "Graphic Female Nudity",
                                                        "ConfidenceGreaterThanEquals": 80},
                                "EvaluationResult": True}
    assert result.reasons == ("Graphic Female Nudity",)


def test_example_2_wildcard_matches_any_label_and_selects_each_one_at_or_above_75():
    result = evaluate(EXAMPLE_2, labels(Suggestive=75.0, Revealing_Clothes=74.99, Weapons=98.2), "img-2")
    assert result.activated
    assert result.reasons == ("Suggestive", "Weapons")
    assert not evaluate(EXAMPLE_2, labels(Suggestive=74.9), "img-2").activated
    assert not evaluate(EXAMPLE_2, [], "img-2").activated


def test_example_3_samples_five_percent_of_items_and_sends_all_their_labels():
    inside, outside = ids_sampled(5, True)[0], ids_sampled(5, False)[0]
    picked = evaluate(EXAMPLE_3, labels(Suggestive=20.0, Drugs=10.0), inside)
    assert picked.activated and set(picked.reasons) == {"Suggestive", "Drugs"}
    assert not evaluate(EXAMPLE_3, labels(Suggestive=20.0), outside).activated


def test_example_4_needs_both_the_sample_and_a_confident_label():
    inside, outside = ids_sampled(5, True)[0], ids_sampled(5, False)[0]
    assert evaluate(EXAMPLE_4, labels(Graphic_Male_Nudity=51.0), inside).activated
    assert not evaluate(EXAMPLE_4, labels(Graphic_Male_Nudity=50.0), inside).activated  # GreaterThan is strict
    assert not evaluate(EXAMPLE_4, labels(Graphic_Male_Nudity=99.0), outside).activated


def test_example_5_always_sends_low_confidence_and_samples_high_confidence():
    inside, outside = ids_sampled(5, True)[0], ids_sampled(5, False)[0]
    assert evaluate(EXAMPLE_5, labels(Graphic_Male_Nudity=59.0), outside).activated
    assert evaluate(EXAMPLE_5, labels(Graphic_Male_Nudity=95.0), inside).activated
    assert not evaluate(EXAMPLE_5, labels(Graphic_Male_Nudity=95.0), outside).activated
    assert not evaluate(EXAMPLE_5, labels(Graphic_Male_Nudity=75.0), inside).activated  # neither low nor > 90


def test_example_6_sends_confident_labels_plus_a_sample_of_all_others():
    inside, outside = ids_sampled(5, True)[0], ids_sampled(5, False)[0]
    assert evaluate(EXAMPLE_6, labels(Graphic_Male_Nudity=60.0), outside).activated
    assert evaluate(EXAMPLE_6, labels(Suggestive=10.0), inside).activated
    assert not evaluate(EXAMPLE_6, labels(Suggestive=10.0), outside).activated


def test_several_bounds_in_one_check_must_all_hold_for_the_same_label():
    conditions = {"Conditions": [check("*", ConfidenceGreaterThanEquals=40, ConfidenceLessThan=60)]}
    assert evaluate(conditions, labels(Suggestive=50.0), "x").activated
    assert not evaluate(conditions, labels(Suggestive=30.0, Weapons=70.0), "x").activated


def test_label_names_are_matched_case_sensitively():
    conditions = {"Conditions": [check("Weapons", ConfidenceGreaterThan=10)]}
    assert not evaluate(conditions, labels(weapons=90.0), "x").activated


def test_an_item_with_no_true_condition_records_false_for_each_member():
    result = evaluate({"Conditions": [check("Weapons", ConfidenceGreaterThan=10), check("Drugs", ConfidenceEquals=5)]},
                      labels(Suggestive=90.0), "x")
    assert result.as_json() == {"activated": False, "reasons": [], "humanTaskActivationConditionResults": {
        "Conditions": [{**check("Weapons", ConfidenceGreaterThan=10), "EvaluationResult": False},
                       {**check("Drugs", ConfidenceEquals=5), "EvaluationResult": False}]}}


# --- validation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("conditions, message", [
    ([], 'must be a JSON object with a "Conditions" list'),
    ({"Conditions": {}}, '"Conditions" must be a list'),
    ({"Conditions": [{"Or": [check("A", ConfidenceLessThan=5)]}]}, "Or needs a list of at least two"),
    ({"Conditions": [{"And": []}]}, "And needs a list of at least two"),
    ({"Conditions": [{"Or": [{"And": [{"Or": [check("A", ConfidenceLessThan=5), check("B", ConfidenceLessThan=5)]},
                                      check("C", ConfidenceLessThan=5)]}, check("D", ConfidenceLessThan=5)]}]},
     "Conditions[0].Or[0].And[0]: Or is nested too deeply"),
    ({"Conditions": [check("A", ConfidenceLessThan=101)]}, "ConfidenceLessThan must be between 0 and 100, not 101"),
    ({"Conditions": [check("A", ConfidenceGreaterThan=-1)]}, "between 0 and 100"),
    ({"Conditions": [check("A")]}, "give at least one of ConfidenceEquals"),
    ({"Conditions": [check("A", ConfidenceLessThan="high")]}, 'ConfidenceLessThan must be a number, not "high"'),
    ({"Conditions": [check("A", ConfidenceAbove=5)]}, "unknown parameter(s) ConfidenceAbove"),
    ({"Conditions": [sampling(0.001)]}, "RandomSamplingPercentage must be between 0.01 and 100"),
    ({"Conditions": [sampling(100.5)]}, "between 0.01 and 100, not 100.5"),
    ({"Conditions": [{"ConditionType": "Sampling", "ConditionParameters": {}}]},
     "RandomSamplingPercentage is required"),
    ({"Conditions": [{"ConditionType": "LabelCheck"}]}, "unknown ConditionType 'LabelCheck'; known types are"),
    ({"Conditions": [{"ConditionParameters": {}}]}, "needs a ConditionType"),
    ({"Conditions": [{"And": [sampling(5), sampling(6)], "ConditionType": "Sampling"}]}, "holds only its list"),
    ({"Conditions": [{"ConditionType": "ImportantFormKeyConfidenceCheck",
                      "ConditionParameters": {"ImportantFormKey": "Name"}}]}, "KeyValueBlockConfidence"),
])
def test_invalid_conditions_get_a_message_naming_the_problem(conditions, message):
    with pytest.raises(ConditionsError) as caught:
        validate_conditions(conditions)
    assert message in str(caught.value)


def test_textracts_documented_condition_types_are_known():
    validate_conditions({"Conditions": [
        {"ConditionType": "ImportantFormKeyConfidenceCheck",
         "ConditionParameters": {"ImportantFormKey": "Employee Name",
                                 "ImportantFormKeyAliases": ["Name", "EmployeeName"],
                                 "KeyValueBlockConfidenceLessThan": 60, "WordBlockConfidenceLessThan": 85}},
        {"ConditionType": "MissingImportantFormKey",
         "ConditionParameters": {"ImportantFormKey": "Mailing Address",
                                 "ImportantFormKeyAliases": ["Mailing Address:"]}},
    ]})


def test_conditions_longer_than_10240_characters_are_refused():
    many = {"Conditions": [check(f"Label number {i}", ConfidenceLessThan=50) for i in range(200)]}
    with pytest.raises(ConditionsError, match="A2I allows at most 10,240"):
        validate_conditions(many)
    with pytest.raises(ConditionsError, match="at most 10,240"):
        parse_conditions(" " * 10_241)


def test_broken_json_gets_its_line_and_column():
    with pytest.raises(ConditionsError, match="Not valid JSON: .* line 1, column"):
        parse_conditions('{"Conditions": [')


# --- responses ----------------------------------------------------------------------------------------------

def test_pascal_case_rekognition_responses_and_camel_case_a2i_copies_read_the_same():
    pascal = {"ModerationLabels": [{"Confidence": 91.2, "Name": "Weapons", "ParentName": "Violence",
                                    "TaxonomyLevel": 2}],
              "ModerationModelVersion": "6.1"}
    camel = {"inputContent": {"aiServiceResponse": {"moderationLabels": [
        {"confidence": 91.2, "name": "Weapons", "parentName": "Violence"}], "moderationModelVersion": "6.1"}}}
    assert labels_from_response(pascal) == labels_from_response(camel) == [LabelScore("Weapons", 91.2, "Violence")]


def test_a_response_without_moderation_labels_is_refused_in_plain_words():
    with pytest.raises(Exception, match="not a DetectModerationLabels response"):
        labels_from_response({"Labels": []})
    with pytest.raises(Exception, match="Confidence 140"):
        labels_from_response({"ModerationLabels": [{"Name": "X", "Confidence": 140}]})


# --- sampling -----------------------------------------------------------------------------------------------

@given(st.text(min_size=1, max_size=40), st.floats(min_value=0.01, max_value=100))
def test_sampling_is_deterministic_per_item(item_id, percent):
    conditions = {"Conditions": [sampling(percent)]}
    first = evaluate(conditions, [], item_id).activated
    assert all(evaluate(conditions, [], item_id).activated == first for _ in range(3))
    assert 0 <= sample_point(item_id) < 100


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=1, max_value=99), st.integers(min_value=0, max_value=10_000))
def test_sampling_rate_is_within_statistical_tolerance_of_the_percentage(percent, offset):
    n = 4000
    hits = sum(is_sampled(f"media-{offset}-{i}", percent) for i in range(n))
    p = percent / 100
    sigma = (n * p * (1 - p)) ** 0.5
    assert abs(hits - n * p) <= 5 * sigma  # five standard deviations: a false alarm is ~1 in 3.5 million
