"""What every task type declares: one frozen value per type, read wherever behaviour differs by type."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LABELS, TRANSCRIPT_WORDS = "labels", "transcript_words"


@dataclass(frozen=True)
class TaskType:
    name: str  # stored on workflows (Workflow.task_type) and consolidated results
    title: str
    page: str  # the page reviewers do these tasks on
    label_category: str  # which model labels route to it and are shown as candidates: "moderation" or "general"
    routes_by: str  # LABELS (thresholds or activation conditions) or TRANSCRIPT_WORDS (word confidence)
    build_answer: Callable[..., dict[str, Any]]  # the page's input -> A2I answerContent
    read_labels: Callable[[dict[str, Any]], dict[str, str]]  # answerContent -> label name -> parent name
    is_voted: bool = True  # consolidation: answers' labels are voted on (a transcript review holds none)
    reviews_boxes: bool = False  # export: people reviewed the model's boxes, so none kept means none
    aws_managed_source: str = ""  # A2I's built-in task this type is (takes activation conditions); "": a custom task
