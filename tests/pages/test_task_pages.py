"""AppTest for the task pages' frame: what an empty queue says, the answer's confirmation between tasks, the
exclusion category and the instructions."""
from __future__ import annotations

import pytest

from components.markup import as_shown
from core.domain import Workflow
from core.task_types.moderation import moderation_content
from tests.review_seed import seed_label_review, seed_moderation

PAGES = {"moderation": "pages/moderation_task.py", "label_review": "pages/label_review.py"}


def _info(at) -> str:
    return as_shown(" ".join(i.value for i in at.info))


@pytest.mark.parametrize("task_type", list(PAGES))
def test_an_empty_queue_with_no_workflow_says_where_to_save_one(app_at, seeded, task_type):
    at = app_at(PAGES[task_type], reviewer="ana")
    text = _info(at)
    assert "workflow yet" in text and "Thresholds → Workflows and loops" in text and "Start human loops" in text
    assert "No tasks left" not in text


@pytest.mark.parametrize("task_type", list(PAGES))
def test_a_workflow_whose_loops_were_never_started_says_to_start_them(app_at, seeded, task_type):
    seeded.workflows.save(Workflow(name="first-pass", task_type=task_type, task_count=1))
    text = _info(app_at(PAGES[task_type], reviewer="ana"))
    assert "first-pass has no human loops" in text and "press Start human loops" in text


def test_when_every_task_is_done_the_page_says_so_and_where_the_outcome_is(app_at, seeded):
    seed_moderation(seeded, task_count=1)
    seeded.review.submit(seeded.review.next_task("ana", task_type="moderation"), moderation_content([]))
    text = _info(app_at(PAGES["moderation"], reviewer="ana"))
    assert "All moderation review tasks are done" in text and "Results" in text


def test_when_the_rest_wait_for_other_reviewers_the_page_says_so(app_at, seeded):
    seed_moderation(seeded, task_count=2)
    seeded.review.submit(seeded.review.next_task("ana", task_type="moderation"), moderation_content([]))
    text = _info(app_at(PAGES["moderation"], reviewer="ana"))
    assert "Nothing left for you right now" in text and "1 open item already has your answer" in text


def test_answer_recorded_stays_while_the_next_task_reruns_and_goes_with_it(app_at, seeded):
    seed_label_review(seeded, names=("cat.jpg", "coffee.jpg"))
    at = app_at(PAGES["label_review"], reviewer="ana")
    shown = at.session_state["label_review.loop_id"]
    at.button(key=f"label_review.{shown}.submit").click().run()
    assert [as_shown(s.value) for s in at.success] == ["Answer recorded. This item is now complete."]
    at.run()  # a rerun the next task starts by itself (the box canvas reporting how it fits the image)
    assert [as_shown(s.value) for s in at.success] == ["Answer recorded. This item is now complete."]
    following = at.session_state["label_review.loop_id"]
    assert following != shown
    at.button(key=f"label_review.{following}.skip").click().run()
    assert not at.success  # the confirmation belonged to the task now skipped


def test_none_of_the_above_turns_the_other_categories_off(app_at, seeded):
    seed_moderation(seeded, task_count=1)
    at = app_at(PAGES["moderation"], reviewer="ana")
    categories = [cb for cb in at.checkbox if not cb.label.endswith("None of the above")]
    assert categories and not any(cb.disabled for cb in categories)
    next(cb for cb in at.checkbox if cb.label.endswith("None of the above")).check().run()
    categories = [cb for cb in at.checkbox if not cb.label.endswith("None of the above")]
    assert all(cb.disabled and not cb.value for cb in categories)


def test_the_instructions_read_as_sentences_and_open_in_dialogs(app_at, seeded):
    seed_moderation(seeded, task_count=1)
    at = app_at(PAGES["moderation"], reviewer="ana")
    text = " ".join(m.value for m in at.markdown)
    assert ("Review the image and tick every category that applies to it. If none of the categories appears in the "
            "image, choose the last option, None of the above.") in text
    assert {b.label for b in at.button} >= {"View full instructions", "View tool guide"}
    assert not at.expander  # no expander squeezed into the instructions column


def test_the_queue_line_says_1_answer_needed_on_1_open_item_in_the_singular(app_at, seeded):
    seed_moderation(seeded, task_count=1)
    at = app_at(PAGES["moderation"], reviewer="ana")
    queue = next(as_shown(c.value) for c in at.caption if as_shown(c.value).startswith("Queue"))
    assert "1 answer needed on 1 open item ·" in queue and "answers" not in queue
