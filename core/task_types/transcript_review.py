"""The transcript review task: a reviewer corrects the model's transcript and marks a version reviewed (a custom
A2I task); the loop's answer names that version and the model's word error rate against it."""
from __future__ import annotations

from typing import Any

from core.task_types.spec import TRANSCRIPT_WORDS, TaskType


def review_answer_content(number: int, text: str, model_wer: float | None) -> dict[str, Any]:
    """answerContent of a transcript review: the approved version, its text, and the word error rate of the model's
    transcript against it (null when there is no model version to compare)."""
    wer = None if model_wer is None else round(model_wer, 4)
    return {"transcript": {"version": number, "text": text, "wordErrorRateOfModel": wer}}


def is_transcript_answer(content: dict[str, Any]) -> bool:
    """An answer from marking a transcript reviewed: it counts as a task done, but holds no label decisions."""
    return isinstance(content.get("transcript"), dict)


def read_labels(content: dict[str, Any]) -> dict[str, str]:
    return {}


SPEC = TaskType(name="transcript_review", title="Transcript review", page="pages/transcript.py",
                label_category="general", routes_by=TRANSCRIPT_WORDS, build_answer=review_answer_content,
                read_labels=read_labels, is_voted=False)
