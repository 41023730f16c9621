"""Task types: what people are asked to do on a human loop. One small module per type holds its answer builder
and reader, how it consolidates and exports, and its page; this registry is the one list of them.

Adding a task type: write `core/task_types/<name>.py` with a `SPEC`, and add it to `REGISTRY` below.
"""
from __future__ import annotations

from typing import Any

from core.errors import LoupeError
from core.task_types import label_review, moderation, transcript_review
from core.task_types.spec import LABELS, TaskType

REGISTRY: dict[str, TaskType] = {spec.name: spec for spec in (moderation.SPEC, label_review.SPEC,
                                                              transcript_review.SPEC)}
IMPORTED = moderation.SPEC.name  # the type of a loop imported from A2I whose flow has no workflow here


def task_type_of(name: str) -> TaskType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise LoupeError(f"Task type must be one of {', '.join(REGISTRY)}, not {name!r}.") from None


def title_of(name: str) -> str:
    """A task type in words for people ("Label review"), from its spec; a name no spec knows, as it is."""
    spec = REGISTRY.get(name)
    return spec.title if spec else name


def for_label_category(category: str) -> TaskType:
    """The task type in which people review model labels of this category (one per category)."""
    for spec in REGISTRY.values():
        if spec.routes_by == LABELS and spec.label_category == category:
            return spec
    raise LoupeError(f"No task type reviews {category!r} labels.")


LABEL_WORDS = {"moderation": "moderation labels", "general": "image labels"}


def routing_mismatch(task_type: str, category: str) -> str | None:
    """Why a workflow of this task type should not route model labels of this category, in words; None when the
    two fit (a moderation task routing image labels would show "Tiger Cat" as a moderation category)."""
    spec = task_type_of(task_type)
    if spec.routes_by != LABELS or spec.label_category == category:
        return None
    routed, shown = LABEL_WORDS.get(category, category), LABEL_WORDS.get(spec.label_category, spec.label_category)
    return (f"These thresholds route {routed}, but a {spec.title.lower()} task shows reviewers {shown}: they would "
            f"be asked about {routed} as if they were {shown}. Choose {shown[:1].upper() + shown[1:]} under Route "
            f"above, or the task type {for_label_category(category).title}.")


def answer_labels(content: dict[str, Any]) -> dict[str, str]:
    """Label name -> parent name picked in one answerContent of any task type."""
    out: dict[str, str] = {}
    for spec in REGISTRY.values():
        out.update(spec.read_labels(content))
    return out
