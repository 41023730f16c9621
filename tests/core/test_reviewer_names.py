"""Reviewer names in the queue: one person however the name is typed, and a second browser under the same name
never silently discards the answer of the first."""
from __future__ import annotations

import pytest

from core.errors import LoupeError
from core.review import reviewer_id
from core.task_types.moderation import moderation_content
from tests.review_seed import seed_moderation


@pytest.mark.parametrize("typed", ["alice", "Alice", " ALICE ", "Ａｌｉｃｅ", "al\u200bice", "Alice\t"])
def test_every_way_of_typing_a_name_is_one_reviewer(typed):
    assert reviewer_id(typed) == "alice"


def test_a_name_of_only_spaces_or_invisible_characters_is_refused():
    with pytest.raises(LoupeError, match="Enter your name"):
        reviewer_id(" \u200b\t")


def test_alice_and_alice_cannot_fill_two_slots_of_one_item(service):
    seed_moderation(service, task_count=2)
    first = service.review.next_task("Alice")
    service.review.submit(first, moderation_content([("Weapons", "Violence")]))
    assert service.review.next_task("alice") is None
    assert service.review.next_task(" ALICE") is None
    assert service.review.next_task("bob") is not None


def test_the_same_name_in_two_browsers_shares_one_slot_not_two(service):
    seed_moderation(service, task_count=2)
    one = service.review.next_task("Alice")
    two = service.review.next_task("alice")
    assert two is not None and (two.loop.loop_id, two.slot) == (one.loop.loop_id, one.slot)


def test_a_second_browser_under_her_name_never_discards_her_answer_silently(service):
    seed_moderation(service, task_count=1)
    hers = service.review.next_task("alice")
    impostor = service.review.next_task("Alice")  # another browser typing her name is handed her held task
    service.review.submit(impostor, moderation_content([]))
    outcome = service.review.submit(hers, moderation_content([("Weapons", "Violence")]))
    assert not outcome.is_recorded and outcome.is_set_aside
    assert "already submitted" in outcome.message and "kept aside" in outcome.message
    (kept,) = service.answers.set_aside_for(hers.loop.loop_id)
    assert kept.content == moderation_content([("Weapons", "Violence")]) and kept.worker_id == "alice"
    # The same answer twice (a double click) is no conflict: nothing is set aside.
    again = service.review.submit(impostor, moderation_content([]))
    assert not again.is_set_aside and "first answer stands" in again.message


def test_an_answer_stored_under_an_older_spelling_still_counts_as_hers(service):
    from core.answers import answer_key
    from core.domain import Answer, as_dict

    (loop,) = seed_moderation(service, task_count=2)
    service.records.create("answer", answer_key(loop.loop_id, "Alice"),
                           as_dict(Answer(loop.loop_id, "Alice", moderation_content([]),
                                          submission_time="2026-01-01T00:00:00.000Z")), parent=loop.loop_id)
    service.records.set_counts("loops", {})  # an older Loupe kept no queue counts: they are counted afresh
    assert service.review.next_task("alice") is None
    (summary,) = service.review.summary("alice")
    assert (summary.available_to_worker, summary.answers_needed) == (0, 1)


def test_a_name_that_won_both_slots_in_a_race_gives_the_second_back_so_the_item_completes(service):
    """Two app processes can each hand "ben" a different slot of one item at the same moment (seen in the two-process
    queue test). His second submit records nothing, so its slot must go back to the queue, not be marked done."""
    from dataclasses import replace

    from core.domain import as_dict
    from core.review import CLAIM_KIND, Claim, claim_key, claim_sort

    (loop,) = seed_moderation(service, task_count=2)
    one = service.review.next_task("ben")
    other_slot = 1 - one.slot
    raced = Claim(loop.loop_id, other_slot, "ben", one.accepted_at_s, one.expires_at_s)
    service.records.create(CLAIM_KIND, claim_key(loop.loop_id, other_slot), as_dict(raced), parent=loop.loop_id,
                           sort=claim_sort(raced))
    two = replace(one, slot=other_slot)
    assert service.review.submit(one, moderation_content([])).is_recorded
    assert not service.review.submit(two, moderation_content([])).is_recorded
    cy = service.review.next_task("cy")
    assert cy is not None and cy.loop.loop_id == loop.loop_id
    assert service.review.submit(cy, moderation_content([])).is_completed
    assert service.loops.get(loop.loop_id).status == "Completed"
