"""A2I `HumanLoopActivationConditions`: validate them, evaluate them locally with A2I's semantics, and write them.

Confidences are in percent (0-100) here, as in A2I's JSON and Rekognition's responses. A Loupe prediction's
0..1 confidence is multiplied by 100.0 at this edge and thresholds become `threshold_percent(t)`, the very
arithmetic `core.routing` compares with, so conditions written from thresholds route exactly as they do.

Semantics, as AWS documents them:
- `Conditions` is a list of independent conditions; any true member starts a human loop. A2I evaluates every
  member (no short cut), so each one gets an `EvaluationResult`.
- `ModerationLabelConfidenceCheck` is true when some label with that exact (case-sensitive) name, or any label
  for `*`, satisfies every bound given in the same check (several bounds are ANDed).
- `Sampling` is true for `RandomSamplingPercentage` percent of items, decided by a hash of the item's id, so the
  same item always gets the same answer (A2I gives the same answer for the same request).
- `And` / `Or` take at least two members and nest at most two levels deep.
- The labels a person is asked to review (A2I's `selectedAiServiceResponse`) are the labels that satisfied the
  true checks; a true `Sampling` on its own selects every label.
"""
from __future__ import annotations

import hashlib
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from core.errors import LoupeError

MAX_CHARS = 10_240
MAX_NESTING = 2
WILDCARD = "*"
MODERATION_CHECK = "ModerationLabelConfidenceCheck"
SAMPLING = "Sampling"
TEXTRACT_KEY_CHECK = "ImportantFormKeyConfidenceCheck"
TEXTRACT_MISSING_KEY = "MissingImportantFormKey"
CONDITION_TYPES = (MODERATION_CHECK, SAMPLING, TEXTRACT_KEY_CHECK, TEXTRACT_MISSING_KEY)

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}
CONFIDENCE_BOUNDS = tuple(f"Confidence{c}" for c in _COMPARISONS)
TEXTRACT_BOUNDS = tuple(f"{block}Confidence{c}" for block in ("KeyValueBlock", "WordBlock") for c in _COMPARISONS)


class ConditionsError(LoupeError):
    """Activation conditions that A2I would refuse; the message says where and why."""


@dataclass(frozen=True)
class LabelScore:
    """One moderation label of one inference, confidence in percent as Rekognition gives it."""
    name: str
    confidence_pct: float
    parent_name: str = ""


@dataclass(frozen=True)
class Evaluation:
    activated: bool
    reasons: tuple[str, ...]  # names of the labels that triggered the loop (A2I's selectedAiServiceResponse)
    results: dict[str, Any]  # humanTaskActivationConditionResults

    def as_json(self) -> dict[str, Any]:
        return {"activated": self.activated, "reasons": list(self.reasons),
                "humanTaskActivationConditionResults": self.results}


def threshold_percent(threshold: float) -> float:
    """A 0..1 threshold as the percent bound written into conditions (rounded so 0.29 reads 29.0, not 28.999…)."""
    return round(threshold * 100.0, 9)


def sample_point(item_id: str) -> float:
    """Where an item falls in [0, 100): `Sampling` with p percent picks the items whose point is below p.

    The one deterministic sampler: activation conditions' Sampling, audit slices and blind review all draw here
    (blind review on a salted key, so its draw is independent of the item's)."""
    digest = hashlib.sha256(item_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 * 100.0


def is_sampled(item_id: str, percent: float) -> bool:
    return sample_point(item_id) < percent


# --- validation ------------------------------------------------------------------------------------------

def parse_conditions(text: str) -> dict[str, Any]:
    """Read activation conditions from JSON text and validate them; ConditionsError says what is wrong."""
    if len(text) > MAX_CHARS:
        raise ConditionsError(f"Activation conditions are {len(text):,} characters; A2I allows at most {MAX_CHARS:,}.")
    try:
        conditions = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConditionsError(f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    validate_conditions(conditions)
    return cast(dict[str, Any], conditions)  # an object: validate_conditions refuses anything else


def dump_conditions(conditions: Mapping[str, Any]) -> str:
    """The JSON string A2I takes in `HumanLoopActivationConditions` (compact, so more fits in 10,240 chars)."""
    return json.dumps(conditions, separators=(",", ":"), ensure_ascii=False)


def validate_conditions(conditions: Any) -> None:
    """Raise ConditionsError naming the first problem, with its path (e.g. `Conditions[0].Or[1]`)."""
    if not isinstance(conditions, dict) or "Conditions" not in conditions:
        raise ConditionsError('Activation conditions must be a JSON object with a "Conditions" list.')
    extra = set(conditions) - {"Conditions"}
    if extra:
        raise ConditionsError(f"Unknown top-level key(s): {', '.join(sorted(extra))}. Only \"Conditions\" is allowed.")
    members = conditions["Conditions"]
    if not isinstance(members, list):
        raise ConditionsError('"Conditions" must be a list of conditions.')
    for i, member in enumerate(members):
        _validate_node(member, f"Conditions[{i}]", depth=0)
    size = len(dump_conditions(conditions))
    if size > MAX_CHARS:
        raise ConditionsError(f"Activation conditions are {size:,} characters as JSON; "
                              f"A2I allows at most {MAX_CHARS:,}.")


def _validate_node(node: Any, path: str, depth: int) -> None:
    if not isinstance(node, dict):
        raise ConditionsError(f"{path}: a condition must be a JSON object.")
    operators = [k for k in ("And", "Or") if k in node]
    if operators:
        if len(node) != 1:
            raise ConditionsError(f"{path}: an {operators[0]} condition holds only its list of members "
                                  f"(found keys {', '.join(sorted(node))}).")
        op = operators[0]
        if depth >= MAX_NESTING:
            raise ConditionsError(f"{path}: {op} is nested too deeply; A2I supports at most {MAX_NESTING} levels of "
                                  "And/Or nesting.")
        members = node[op]
        if not isinstance(members, list) or len(members) < 2:
            raise ConditionsError(f"{path}: {op} needs a list of at least two conditions.")
        for i, member in enumerate(members):
            _validate_node(member, f"{path}.{op}[{i}]", depth + 1)
        return
    if "ConditionType" not in node:
        raise ConditionsError(f"{path}: a condition needs a ConditionType (or is an And/Or list).")
    extra = set(node) - {"ConditionType", "ConditionParameters"}
    if extra:
        raise ConditionsError(f"{path}: unknown key(s) {', '.join(sorted(extra))}.")
    kind = node["ConditionType"]
    if kind not in CONDITION_TYPES:
        raise ConditionsError(f"{path}: unknown ConditionType {kind!r}; known types are {', '.join(CONDITION_TYPES)}.")
    params = node.get("ConditionParameters", {})
    if not isinstance(params, dict):
        raise ConditionsError(f"{path}: ConditionParameters must be a JSON object.")
    _PARAM_CHECKS[kind](params, f"{path} ({kind})")


def _number(value: Any, name: str, path: str, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConditionsError(f"{path}: {name} must be a number, not {json.dumps(value)}.")
    if not low <= value <= high:
        raise ConditionsError(f"{path}: {name} must be between {low:g} and {high:g}, not {value:g}.")


def _allowed(params: dict[str, Any], allowed: Iterable[str], path: str) -> None:
    extra = set(params) - set(allowed)
    if extra:
        raise ConditionsError(f"{path}: unknown parameter(s) {', '.join(sorted(extra))}.")


def _check_moderation(params: dict[str, Any], path: str) -> None:
    _allowed(params, ("ModerationLabelName", *CONFIDENCE_BOUNDS), path)
    name = params.get("ModerationLabelName")
    if not isinstance(name, str) or not name:
        raise ConditionsError(f"{path}: ModerationLabelName must be a label name or \"*\".")
    bounds = [b for b in CONFIDENCE_BOUNDS if b in params]
    if not bounds:
        raise ConditionsError(f"{path}: give at least one of {', '.join(CONFIDENCE_BOUNDS)}.")
    for b in bounds:
        _number(params[b], b, path, 0, 100)


def _check_sampling(params: dict[str, Any], path: str) -> None:
    _allowed(params, ("RandomSamplingPercentage",), path)
    if "RandomSamplingPercentage" not in params:
        raise ConditionsError(f"{path}: RandomSamplingPercentage is required.")
    _number(params["RandomSamplingPercentage"], "RandomSamplingPercentage", path, 0.01, 100)


def _check_form_key(params: dict[str, Any], path: str, *, needs_bounds: bool) -> None:
    _allowed(params, ("ImportantFormKey", "ImportantFormKeyAliases", *(TEXTRACT_BOUNDS if needs_bounds else ())), path)
    key = params.get("ImportantFormKey")
    if not isinstance(key, str) or not key:
        raise ConditionsError(f"{path}: ImportantFormKey must be a form key (or \"*\").")
    aliases = params.get("ImportantFormKeyAliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConditionsError(f"{path}: ImportantFormKeyAliases must be a list of strings.")
    if needs_bounds:
        bounds = [b for b in TEXTRACT_BOUNDS if b in params]
        if not bounds:
            raise ConditionsError(f"{path}: give at least one KeyValueBlockConfidence… or WordBlockConfidence… bound.")
        for b in bounds:
            _number(params[b], b, path, 0, 100)


_PARAM_CHECKS: dict[str, Callable[[dict[str, Any], str], None]] = {
    MODERATION_CHECK: _check_moderation,
    SAMPLING: _check_sampling,
    TEXTRACT_KEY_CHECK: lambda p, path: _check_form_key(p, path, needs_bounds=True),
    TEXTRACT_MISSING_KEY: lambda p, path: _check_form_key(p, path, needs_bounds=False),
}


# --- evaluation ------------------------------------------------------------------------------------------

def evaluate(conditions: Mapping[str, Any], labels: Sequence[LabelScore], item_id: str) -> Evaluation:
    """Evaluate validated conditions on one inference (its moderation labels) for one item, as A2I does."""
    results = []
    activated = False
    selected: set[str] = set()
    for member in conditions.get("Conditions", []):
        result, matched = _evaluate_node(member, labels, item_id)
        results.append(result)
        if result["EvaluationResult"]:
            activated = True
            selected |= matched
    order = {lb.name: i for i, lb in reversed(list(enumerate(labels)))}
    reasons = tuple(sorted(selected, key=lambda n: order.get(n, len(order))))
    return Evaluation(activated, reasons, {"Conditions": results})


def _evaluate_node(node: Mapping[str, Any], labels: Sequence[LabelScore],
                   item_id: str) -> tuple[dict[str, Any], set[str]]:
    for op in ("And", "Or"):
        if op in node:
            parts = [_evaluate_node(child, labels, item_id) for child in node[op]]
            outcomes = [p[0]["EvaluationResult"] for p in parts]
            value = all(outcomes) if op == "And" else any(outcomes)
            matched: set[str] = set()
            if value:
                for part in parts:
                    if part[0]["EvaluationResult"]:
                        matched |= part[1]
            return {"EvaluationResult": value, op: [p[0] for p in parts]}, matched
    kind = node["ConditionType"]
    params = node.get("ConditionParameters", {})
    value, matched = _evaluate_simple(kind, params, labels, item_id)
    return {"ConditionType": kind, "ConditionParameters": dict(params), "EvaluationResult": value}, matched


def _evaluate_simple(kind: str, params: Mapping[str, Any], labels: Sequence[LabelScore],
                     item_id: str) -> tuple[bool, set[str]]:
    if kind == SAMPLING:
        sampled = is_sampled(item_id, float(params["RandomSamplingPercentage"]))
        return sampled, ({lb.name for lb in labels} if sampled else set())
    if kind == MODERATION_CHECK:
        name = params["ModerationLabelName"]
        bounds = [(_COMPARISONS[b.removeprefix("Confidence")], float(params[b]))
                  for b in CONFIDENCE_BOUNDS if b in params]
        matched = {lb.name for lb in labels
                   if (name == WILDCARD or lb.name == name) and all(cmp(lb.confidence_pct, v) for cmp, v in bounds)}
        return bool(matched), matched
    raise ConditionsError(f"{kind} conditions apply to Amazon Textract forms; Loupe evaluates them only on "
                          "document responses, not on image labels.")


def labels_from_response(response: Mapping[str, Any]) -> list[LabelScore]:
    """The moderation labels of a DetectModerationLabels response (PascalCase) or A2I's camelCase copy of one.

    Also accepts an A2I output.json or its `inputContent`, reading `aiServiceResponse`.
    """
    if "inputContent" in response:
        response = response["inputContent"]
    if "aiServiceResponse" in response:
        response = response["aiServiceResponse"]
    raw = response.get("ModerationLabels", response.get("moderationLabels"))
    if not isinstance(raw, list):
        raise LoupeError("This is not a DetectModerationLabels response: it has no ModerationLabels list.")
    labels = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise LoupeError(f"ModerationLabels[{i}] is not an object.")
        name = item.get("Name", item.get("name"))
        confidence = item.get("Confidence", item.get("confidence"))
        if not isinstance(name, str) or isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
            raise LoupeError(f"ModerationLabels[{i}] needs a Name and a numeric Confidence (0-100).")
        if not 0 <= confidence <= 100:
            raise LoupeError(f"ModerationLabels[{i}] ({name}) has Confidence {confidence}; it must be 0-100.")
        labels.append(LabelScore(name, float(confidence), str(item.get("ParentName", item.get("parentName", "")))))
    return labels


# --- writing conditions from thresholds -----------------------------------------------------------------

def conditions_from_bands(bands: Mapping[str, tuple[float, float]], audit_percent: float = 0.0) -> dict[str, Any]:
    """Conditions that start a loop exactly when threshold routing sends an item to people.

    `bands` maps a label name (or `*`) to its (low, high) thresholds, 0..1: a label goes to review when
    low <= confidence < high. With `audit_percent`, items with any label at or above its high threshold are
    sampled too (the audit slice); an item already in review is routed anyway, so this equals sampling the
    auto-accepted items.
    """
    review = []
    accept = []
    for name, (low, high) in bands.items():
        if low < high:
            params: dict[str, Any] = {"ModerationLabelName": name}
            if low > 0:
                params["ConfidenceGreaterThanEquals"] = threshold_percent(low)
            params["ConfidenceLessThan"] = threshold_percent(high)
            review.append({"ConditionType": MODERATION_CHECK, "ConditionParameters": params})
        accept.append({"ConditionType": MODERATION_CHECK,
                       "ConditionParameters": {"ModerationLabelName": name,
                                               "ConfidenceGreaterThanEquals": threshold_percent(high)}})
    members: list[dict[str, Any]] = list(review)
    if audit_percent > 0 and accept:
        sampling = {"ConditionType": SAMPLING, "ConditionParameters": {"RandomSamplingPercentage": audit_percent}}
        any_accepted = accept[0] if len(accept) == 1 else {"Or": accept}
        members.append({"And": [sampling, any_accepted]})
    conditions = {"Conditions": members}
    validate_conditions(conditions)
    return conditions
