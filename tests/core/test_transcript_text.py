"""Pure transcript text functions: edits that keep timings, tweaks, diffs, word error rate, export and import."""
from __future__ import annotations

import pytest

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError
from core.transcript_text import (
    Tweak,
    apply_tweaks,
    edit_segment_text,
    export_transcript,
    import_transcript,
    low_confidence_words,
    parse_tweaks,
    word_diff,
    word_error_rate,
)


def _transcript(text: str = "the quick brown fox", confidences: tuple[float, ...] = ()) -> Transcript:
    words = tuple(Word(t, i * 0.5, i * 0.5 + 0.4, confidences[i] if i < len(confidences) else 0.9)
                  for i, t in enumerate(text.split()))
    return Transcript("", (Segment(0.0, len(words) * 0.5, text, words),), language="en", model_version="test-model")


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
    transcript = Transcript("m",
                            (Segment(0, 1, "Welcome to loop on A.W.S.", ()),
                             Segment(1, 2, "A loophole in A.W.S. docs", ())))
    tweaked, count = apply_tweaks(transcript, tweaks)
    assert [s.text for s in tweaked.segments] == ["Welcome to Loupe on AWS", "A loophole in AWS docs"]
    assert count == 3


def test_a_malformed_tweak_line_is_named():
    with pytest.raises(LoupeError, match="line 2"):
        parse_tweaks("A.W.S.=AWS\nno equals sign here")


def test_word_diff_shows_removed_and_added_words():
    pieces = word_diff("the quick brown fox", "the quick red fox jumps")
    assert [(p.op, p.text) for p in pieces] == [("equal", "the quick"), ("delete", "brown"), ("insert", "red"),
                                               ("equal", "fox"), ("insert", "jumps")]


def test_word_error_rate_ignores_case_and_punctuation():
    assert word_error_rate("The quick brown fox.", "the quick brown fox") == 0.0
    assert word_error_rate("the quick brown fox", "the quick red fox") == 0.25
    assert word_error_rate("", "anything") is None


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
