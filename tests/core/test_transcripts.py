"""Transcript versions, edits, tweaks, diffs, review and word error rate, on a real local store."""
from __future__ import annotations

import threading

import pytest

from core.domain import HumanLoop, Segment, Transcript, Word, Workflow
from core.errors import LoupeError
from core.loops import loop_id_for
from core.transcripts import (Tweak, apply_edits, apply_tweaks, edit_segment_text, export_transcript, import_transcript,
                              low_confidence_words, parse_tweaks, word_diff, word_error_rate)

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


def test_an_edit_keeps_the_timing_of_unchanged_words_and_marks_typed_words_certain():
    seg = _transcript("the quick brown fox", (0.9, 0.2, 0.3, 0.8)).segments[0]
    edited = edit_segment_text(seg, "the quick red fox jumps")
    assert [w.text for w in edited.words] == ["the", "quick", "red", "fox", "jumps"]
    assert edited.words[2].start_s == seg.words[2].start_s and edited.words[2].confidence == 1.0
    assert edited.words[1] == seg.words[1] and edited.words[3] == seg.words[3]
    starts = [w.start_s for w in edited.words]
    assert starts == sorted(starts)


def test_tweaks_replace_whole_words_across_the_transcript():
    tweaks = parse_tweaks("A.W.S.=AWS\n# a comment\n\nloop = Loupe")
    assert tweaks == [Tweak("A.W.S.", "AWS"), Tweak("loop", "Loupe")]
    transcript = Transcript("m", (Segment(0, 1, "Welcome to loop on A.W.S.", ()), Segment(1, 2, "A loophole in A.W.S. docs", ())))
    tweaked, count = apply_tweaks(transcript, tweaks)
    assert [s.text for s in tweaked.segments] == ["Welcome to Loupe on AWS", "A loophole in AWS docs"]
    assert count == 3


def test_a_malformed_tweak_line_is_named():
    with pytest.raises(LoupeError, match="line 2"):
        parse_tweaks("A.W.S.=AWS\nno equals sign here")


def test_tweaks_are_remembered_per_project_with_version_checks(service):
    t = service.transcripts
    assert t.tweaks() == ([], None)
    version = t.save_tweaks([Tweak("A.W.S.", "AWS")], expected_version=None)
    assert t.tweaks() == ([Tweak("A.W.S.", "AWS")], version)
    assert t.tweaks("other-project") == ([], None)
    with pytest.raises(LoupeError, match="Conflict"):
        t.save_tweaks([], expected_version=None)


def test_word_diff_shows_removed_and_added_words():
    pieces = word_diff("the quick brown fox", "the quick red fox jumps")
    assert [(p.op, p.text) for p in pieces] == [("equal", "the quick"), ("delete", "brown"), ("insert", "red"),
                                               ("equal", "fox"), ("insert", "jumps")]


def test_word_error_rate_ignores_case_and_punctuation():
    assert word_error_rate("The quick brown fox.", "the quick brown fox") == 0.0
    assert word_error_rate("the quick brown fox", "the quick red fox") == 0.25
    assert word_error_rate("", "anything") is None


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


def test_low_confidence_words_are_listed_in_order():
    transcript = _transcript("a b c d", (0.9, 0.2, 0.95, 0.5))
    assert low_confidence_words(transcript, 0.6) == [(0, 1), (0, 3)]
    assert low_confidence_words(transcript, 0.1) == []


@pytest.mark.parametrize("fmt,name", [("srt", "t.srt"), ("vtt", "t.vtt"), ("transcribe-json", "t.json")])
def test_an_exported_transcript_imports_back_with_the_same_words(fmt, name):
    transcript = _transcript("the quick brown fox", (0.9, 0.2, 0.3, 0.8))
    data = export_transcript(transcript, fmt).encode()
    back = import_transcript(name, data, media_id="m")
    assert back.text == transcript.text and back.media_id == "m"
    assert back.model_version.startswith("import/")


def test_plain_text_export_and_an_unknown_format():
    assert export_transcript(_transcript("a b"), "txt") == "a b\n"
    with pytest.raises(LoupeError, match="Unknown export format"):
        export_transcript(_transcript("a b"), "docx")


def test_an_unreadable_import_is_refused_plainly():
    with pytest.raises(LoupeError, match="not valid JSON"):
        import_transcript("t.json", b"{not json", media_id="m")
    with pytest.raises(LoupeError, match="not a valid SRT"):
        import_transcript("t.srt", b"just some words\n", media_id="m")
