"""Home's overview: which review tasks count as waiting, for a signed-in reviewer and before a name is given."""
from __future__ import annotations

from components.overview import waiting_tasks
from core.review import QueueSummary


def test_waiting_tasks_count_what_the_reviewer_can_take_or_every_answer_needed_before_a_name():
    summaries = [QueueSummary("a", "label_review", 3, 4, 0, 2), QueueSummary("b", "label_review", 1, 1, 0, 1),
                 QueueSummary("c", "moderation", 2, 2, 0, 0), QueueSummary("d", "retired", 1, 1, 0, 1)]
    assert waiting_tasks(summaries, reviewer="ann") == {"label_review": 3}
    assert waiting_tasks(summaries, reviewer="") == {"label_review": 5, "moderation": 2}
