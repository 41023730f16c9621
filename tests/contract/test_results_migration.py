"""Results written before they were keyed by workflow are rewritten once, on every store backend: resumable, with
the counts checked, and a result a later workflow overwrote is rebuilt from its answers."""
from __future__ import annotations

from core.answers import Answers
from core.consolidation import KIND, Consolidation, consolidate_answers, result_key
from core.domain import Answer, HumanLoop, Workflow, as_dict
from core.loops import Loops
from core.migration import RESULTS_MARKER, migrate_results
from core.predictions import Predictions
from core.stores.base import Record
from core.task_types.moderation import moderation_content
from core.workflows import Workflows


def _older_store(records) -> tuple[Consolidation, Loops]:
    """Two workflows reviewed item m1; the store kept one result per item, so 'second' overwrote 'first'."""
    workflows, loops, answers = Workflows(records), Loops(records), Answers(records)
    consolidation = Consolidation(records, loops, answers, Predictions(records), workflows)
    for name in ("first", "second"):
        workflows.save(Workflow(name=name, task_type="moderation"))
    picks = {"first": [("Weapons", "Violence")], "second": [("Smoking", "Tobacco")]}
    for name, media_id in (("first", "m1"), ("second", "m1"), ("second", "m2")):
        loop = HumanLoop(f"{name}-{media_id}", media_id, name, status="Completed")
        loops.create(loop)
        answer = Answer(loop.loop_id, "ann", moderation_content(picks[name]), submission_time="2026-01-01T00:00:00Z")
        answers.submit(answer)
        old = consolidate_answers(media_id, [answer], loops=[loop], workflow=name)
        records.put_many([Record(KIND, media_id, as_dict(old), parent=name)])  # the old key: media_id alone
    return consolidation, loops


def test_older_results_are_keyed_by_workflow_and_overwritten_ones_rebuilt(records):
    consolidation, loops = _older_store(records)
    report = migrate_results(records, consolidation, loops)
    assert report.is_complete, report.summary()
    assert (report.legacy, report.moved, report.recomputed, report.expected, report.found) == (2, 2, 1, 3, 3)
    assert records.get(KIND, "m1") is None and records.get(KIND, "m2") is None
    assert consolidation.get("m1", "first").accepted == {"Weapons"}
    assert consolidation.get("m1", "second").accepted == {"Smoking"}
    assert consolidation.get("m2", "second").accepted == {"Smoking"}
    assert records.get(*RESULTS_MARKER) is not None
    assert migrate_results(records, consolidation, loops).was_done  # the marker: nothing is read again


def test_a_run_stopped_between_writing_and_deleting_is_resumed(records):
    consolidation, loops = _older_store(records)
    old = records.get(KIND, "m2")
    records.put_many([Record(KIND, result_key("second", "m2"), old.body, parent="second")])  # written, not deleted
    report = migrate_results(records, consolidation, loops)
    assert report.is_complete and report.already_moved == 1 and report.moved == 1
    assert records.get(KIND, "m2") is None
    assert sorted(c.workflow + "|" + c.media_id for c in consolidation.all()) == ["first|m1", "second|m1", "second|m2"]
