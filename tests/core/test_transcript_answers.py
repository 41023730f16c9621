"""Marking a transcript reviewed is a human answer: recorded once per loop and reviewer, completes the loop, counts
in Results (reviewer work, the speech model's 1 - WER) and is written as A2I output."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.domain import Segment, Transcript, Word, Workflow, iso_time
from core.routing_policy import RoutingPolicy
from core.task_types.moderation import moderation_content
from tests.review_seed import seed_moderation

ROOT = Path(__file__).resolve().parents[2]
OPENED_AT_S = 1_700_000_000.0


def _transcript(text: str, low_at: int = 1) -> Transcript:
    words = tuple(Word(t, i * 0.5, i * 0.5 + 0.4, 0.3 if i == low_at else 0.95) for i, t in enumerate(text.split()))
    return Transcript("", (Segment(0.0, len(words) * 0.5, text, words),), language="en", model_version="test-model")


def _routed(service, *, task_count: int = 1) -> tuple[str, str]:
    """welcome.wav with a model transcript (one unsure word) and an open transcript_review loop; (media_id, loop_id)."""
    media_id = service.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    service.transcripts.save_model_transcript(media_id, _transcript("welcome to loop on aws"))
    service.workflows.save(Workflow("speech-check", task_type="transcript_review",
                                    routing=RoutingPolicy(accept_at=0.6), task_count=task_count))
    service.loop_starter.start_loops("speech-check")
    (loop,) = service.loops.list(workflow="speech-check")
    service.review.clock = lambda: OPENED_AT_S + 42.0
    return media_id, loop.loop_id


def _fix(service, media_id: str, text: str, by: str) -> None:
    base = service.transcripts.latest_number(media_id)
    service.transcripts.save(media_id, _transcript(text), base_number=base, saved_by=by)


def test_marking_reviewed_twice_records_one_answer_in_the_documented_shape_and_completes_the_loop(service):
    media_id, loop_id = _routed(service)
    _fix(service, media_id, "welcome to loupe on aws", by="ann")  # one word of five was wrong: WER 0.2

    service.transcripts.mark_reviewed(media_id, reviewer="ann", accepted_at_s=OPENED_AT_S)
    service.transcripts.mark_reviewed(media_id, reviewer="ann", accepted_at_s=OPENED_AT_S)

    (answer,) = service.answers.for_loop(loop_id)
    assert answer.worker_id == "ann"
    assert answer.content == {"transcript": {"version": 2, "text": "welcome to loupe on aws",
                                             "wordErrorRateOfModel": 0.2}}
    assert answer.acceptance_time == iso_time(OPENED_AT_S) and answer.submission_time == iso_time(OPENED_AT_S + 42)
    assert answer.time_spent_s == 42.0
    assert service.loops.get(loop_id).status == "Completed"
    assert service.catalog.get(media_id).status == "reviewed"
    assert service.consolidation.get(media_id) is None  # no label votes are made up from a transcript


def test_a_loop_needing_two_reviewers_completes_on_the_second_reviewers_mark(service):
    media_id, loop_id = _routed(service, task_count=2)
    service.transcripts.mark_reviewed(media_id, reviewer="ann")
    service.transcripts.mark_reviewed(media_id, reviewer="ann")
    assert service.loops.get(loop_id).status == "InProgress" and len(service.answers.for_loop(loop_id)) == 1
    service.transcripts.mark_reviewed(media_id, reviewer="bob")
    assert service.loops.get(loop_id).status == "Completed"
    assert sorted(a.worker_id for a in service.answers.for_loop(loop_id)) == ["ann", "bob"]


def test_results_count_transcript_reviews_per_reviewer_and_the_models_transcript_accuracy(service):
    media_id, _ = _routed(service)
    _fix(service, media_id, "welcome to loupe on aws", by="ann")
    service.transcripts.mark_reviewed(media_id, reviewer="ann", accepted_at_s=OPENED_AT_S)

    seed_moderation(service, task_count=1)
    service.review.submit(service.review.next_task("ben"), moderation_content([("Weapons", "Violence")]))

    report = service.results.agreement()
    ann, ben = report.reviewers
    assert (ann.worker_id, ann.tasks_done, ann.transcripts_done, ann.median_time_s) == ("ann", 1, 1, 42.0)
    assert (ben.worker_id, ben.tasks_done, ben.transcripts_done) == ("ben", 1, 0)
    ben_seconds = service.answers.for_loop(service.loops.list(workflow="moderation-flow")[0].loop_id)[0].time_spent_s
    assert service.answers.label_task_seconds() == [ben_seconds]  # the transcript review costs differently
    assert report.pairs == () and report.multi_reviewed_items == 0  # a transcript review pairs with no label review
    assert report.model.decisions == 3  # the image-label figures count ben's label decisions only
    transcripts = service.results.transcripts()
    assert (transcripts.items, transcripts.accuracy, transcripts.mean_wer) == (1, 0.8, 0.2)
    assert service.results.transcripts(workflow="speech-check").accuracy == 0.8
    assert [i.file_name for i in service.results.items()] == ["cat.jpg"]  # a transcript has no final labels


def test_a_review_without_a_loop_still_counts_in_the_transcript_accuracy(service):
    media_id = service.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    service.transcripts.save_model_transcript(media_id, _transcript("welcome to loop"))
    assert service.results.transcripts().items == 0
    service.transcripts.mark_reviewed(media_id, reviewer="ann")
    assert service.results.transcripts().accuracy == 1.0 and service.answers.for_loop("anything") == []


def test_a2i_export_writes_the_transcript_loops_output_with_the_answer_as_stored(service, tmp_path):
    media_id, loop_id = _routed(service)
    service.transcripts.mark_reviewed(media_id, reviewer="ann", accepted_at_s=OPENED_AT_S)

    result = service.exports.export("a2i", str(tmp_path / "out"))

    assert result.files == 1
    (path,) = (tmp_path / "out").rglob("output.json")
    assert path.parent.name == loop_id and path.relative_to(tmp_path / "out").parts[0] == "speech-check"
    doc = json.loads(path.read_text())
    assert "awsManagedHumanLoopRequestSource" not in doc
    (human,) = doc["humanAnswers"]
    assert human["answerContent"] == {"transcript": {"version": 1, "text": "welcome to loop on aws",
                                                     "wordErrorRateOfModel": 0.0}}
    assert human["workerId"] == "ann" and human["timeSpentInSeconds"] == 42.0
    assert doc["inputContent"]["taskObject"].endswith("/welcome.wav")
    assert doc["inputContent"]["mediaKind"] == "audio" and doc["inputContent"]["humanLoopReasons"]


@pytest.mark.parametrize("reviewer", ["", "  "])
def test_marking_reviewed_without_a_name_records_nothing(service, reviewer):
    media_id, loop_id = _routed(service)
    with pytest.raises(Exception, match="reviewer's name"):
        service.transcripts.mark_reviewed(media_id, reviewer=reviewer)
    assert service.answers.for_loop(loop_id) == [] and service.loops.get(loop_id).status == "InProgress"
