"""What an empty task queue says: how to get tasks, by why there are none."""
from __future__ import annotations

from components.markup import as_shown
from components.review import empty_queue_text
from core.review import QueueSummary


def summary(open_loops: int = 0, loops_total: int = 0, in_progress: int = 0) -> QueueSummary:
    return QueueSummary("moderation-pass", "moderation", open_loops, open_loops, in_progress, 0, loops_total)


def test_no_workflow_yet_points_to_the_thresholds_page_and_the_demo():
    text = empty_queue_text([], task_title="Moderation review")
    assert text.startswith("No moderation review workflow yet: save one on Thresholds → Workflows and loops and "
                           "press Start human loops")
    assert "demo" in text


def test_a_workflow_without_loops_says_to_start_them():
    text = as_shown(empty_queue_text([summary()], task_title="Moderation review"))
    assert "moderation-pass has no human loops" in text


def test_all_done_says_so_and_where_the_outcome_is():
    text = empty_queue_text([summary(loops_total=5)], task_title="Moderation review")
    assert text.startswith("All moderation review tasks are done") and "Results" in text


def test_open_items_waiting_for_others_are_counted_in_words():
    assert "2 open items already have your answer or are being reviewed by someone else" in empty_queue_text(
        [summary(open_loops=2, loops_total=5, in_progress=1)], task_title="Moderation review")
