"""The transcript store: versions, conflicts, tweaks kept per project, and review, on a real local store."""
from __future__ import annotations

import threading

import pytest

from core.domain import HumanLoop, Segment, Transcript, Word, Workflow
from core.errors import LoupeError
from core.loops import loop_id_for
from core.transcript_text import Tweak, apply_edits

ROOT_WAV = "demo/welcome.wav"


def _transcript(text: str = "the quick brown fox", confidences: tuple[float, ...] = ()) -> Transcript:
    words = tuple(Word(t, i * 0.5, i * 0.5 + 0.4, confidences[i] if i < len(confidences) else 0.9)
                  for i, t in enumerate(text.split()))
    return Transcript("", (Segment(0.0, len(words) * 0.5, text, words),), language="en", model_version="test-model")


@pytest.fixture
def media_id(service):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return service.catalog.ingest_file(root / ROOT_WAV).media_id


def test_the_models_transcript_is_v1_and_each_save_adds_a_version_with_who_and_when(service, media_id):
    t = service.transcripts
    v1 = t.save_model_transcript(media_id, _transcript())
    outcome = t.save(media_id, apply_edits(v1.transcript, {0: "the quick red fox"}), base_number=1, saved_by="ann")
    assert (v1.number, outcome.version.number, outcome.conflict_with) == (1, 2, None)
    assert [v.number for v in t.versions(media_id)] == [2, 1]
    latest = t.latest(media_id)
    assert latest.saved_by == "ann" and latest.saved_at.endswith("Z") and latest.base_number == 1
    assert latest.transcript.text == "the quick red fox"
    assert t.get_version(media_id, 1).transcript.text == "the quick brown fox"


def test_two_saves_from_the_same_version_keep_both_and_report_the_conflict(service, media_id):
    t = service.transcripts
    t.save_model_transcript(media_id, _transcript())
    first = t.save(media_id, _transcript("the quick red fox"), base_number=1, saved_by="ann")
    second = t.save(media_id, _transcript("the slow brown fox"), base_number=1, saved_by="bob")
    assert first.conflict_with is None
    assert second.conflict_with.number == 2 and second.conflict_with.saved_by == "ann"
    assert second.version.number == 3 and second.version.note == "conflict copy"
    assert {v.transcript.text for v in t.versions(media_id)} == {"the quick brown fox", "the quick red fox",
                                                                 "the slow brown fox"}


def test_concurrent_saves_never_lose_an_edit(service, media_id):
    t = service.transcripts
    t.save_model_transcript(media_id, _transcript())
    outcomes = []

    def save(i: int) -> None:
        outcomes.append(t.save(media_id, _transcript(f"edit number {i}"), base_number=1, saved_by=f"r{i}"))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    texts = {v.transcript.text for v in t.versions(media_id)}
    assert {f"edit number {i}" for i in range(6)} <= texts
    assert sum(o.conflict_with is None for o in outcomes) == 1
    assert t.latest_number(media_id) == 7


def test_restore_saves_the_old_content_as_a_new_version(service, media_id):
    t = service.transcripts
    t.save_model_transcript(media_id, _transcript())
    t.save(media_id, _transcript("something else entirely"), base_number=1, saved_by="ann")
    outcome = t.restore(media_id, 1, base_number=2, saved_by="bob")
    assert outcome.version.number == 3 and outcome.version.note == "restored v1"
    assert t.latest(media_id).transcript.text == "the quick brown fox"


def test_saving_needs_a_reviewer_name(service, media_id):
    service.transcripts.save_model_transcript(media_id, _transcript())
    with pytest.raises(LoupeError, match="reviewer's name"):
        service.transcripts.save(media_id, _transcript(), base_number=1, saved_by=" ")


def test_tweaks_are_remembered_per_project_with_version_checks(service):
    t = service.transcripts
    assert t.tweaks() == ([], None)
    version = t.save_tweaks([Tweak("A.W.S.", "AWS")], expected_version=None)
    assert t.tweaks() == ([Tweak("A.W.S.", "AWS")], version)
    assert t.tweaks("other-project") == ([], None)
    with pytest.raises(LoupeError, match="Conflict"):
        t.save_tweaks([], expected_version=None)


def test_marking_reviewed_records_it_sets_the_status_completes_the_loop_and_measures_wer(service, media_id):
    service.workflows.save(Workflow(name="transcripts", task_type="transcript_review"))
    loop_id = loop_id_for("transcripts", media_id)
    service.loops.create(HumanLoop(loop_id=loop_id, media_id=media_id, workflow="transcripts"))
    t = service.transcripts
    t.save_model_transcript(media_id, _transcript("the quick brown fox"))
    t.save(media_id, _transcript("the quick red fox"), base_number=1, saved_by="ann")
    state = t.mark_reviewed(media_id, reviewer="ann")
    assert (state.reviewed_number, state.reviewed_by) == (2, "ann")
    assert service.catalog.get(media_id).status == "reviewed"
    assert service.loops.get(loop_id).status == "Completed"
    assert t.word_error_rate(media_id) == 0.25


def test_marking_reviewed_without_a_transcript_is_refused(service, media_id):
    with pytest.raises(LoupeError, match="no transcript yet"):
        service.transcripts.mark_reviewed(media_id, reviewer="ann")
