"""Captions: cue breaking, and SRT/WebVTT written and read back, checked against independent parsers."""
from __future__ import annotations

import pytest
import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError
from core.formats.captions import (
    Cue,
    build_cues,
    parse_srt,
    parse_webvtt,
    read_captions,
    to_srt,
    to_text,
    to_webvtt,
    transcript_from_cues,
)


def _words(*spec: tuple[str, float, float]) -> tuple[Word, ...]:
    return tuple(Word(text, start, end, 0.9) for text, start, end in spec)


def test_a_pause_of_one_and_a_half_seconds_starts_a_new_caption():
    words = _words(("Hello", 0.0, 0.4), ("there.", 0.5, 0.9), ("After", 2.4, 2.8), ("silence.", 2.9, 3.3))
    cues = build_cues(Transcript("m", (Segment(0.0, 3.3, "Hello there. After silence.", words),)))
    assert [(c.start_ms, c.end_ms, c.text) for c in cues] == [(0, 900, "Hello there."), (2400, 3300, "After silence.")]


def test_a_shorter_pause_keeps_one_caption_and_the_gap_is_a_setting():
    words = _words(("Hello", 0.0, 0.4), ("there.", 1.8, 2.2))
    transcript = Transcript("m", (Segment(0.0, 2.2, "Hello there.", words),))
    assert len(build_cues(transcript)) == 1
    assert len(build_cues(transcript, gap_s=1.0)) == 2


def test_long_text_breaks_into_cues_of_two_lines_of_at_most_42_characters():
    tokens = ("word" + str(i % 10) for i in range(60))
    words = tuple(Word(t, i * 0.3, i * 0.3 + 0.25, 0.9) for i, t in enumerate(tokens))
    cues = build_cues(Transcript("m", (Segment(0.0, 18.0, " ".join(w.text for w in words), words),)))
    assert len(cues) > 1
    for cue in cues:
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines)
    assert " ".join(c.text.replace("\n", " ") for c in cues) == " ".join(w.text for w in words)
    narrow = build_cues(Transcript("m", (Segment(0.0, 18.0, "", words),)), line_chars=20, lines=1)
    assert all(len(c.text) <= 20 and "\n" not in c.text for c in narrow)


def test_srt_export_is_read_by_the_srt_library_to_the_millisecond():
    cues = [Cue(0, 1234, "First line\nsecond line"), Cue(3_600_001, 3_601_999, "An hour in")]
    parsed = list(srt.parse(to_srt(cues)))
    assert [(p.start.total_seconds(), p.end.total_seconds(), p.content) for p in parsed] == [
        (0.0, 1.234, "First line\nsecond line"), (3600.001, 3601.999, "An hour in")]


def test_webvtt_export_is_read_by_webvtt_py_and_escapes_markup():
    cues = [Cue(500, 2500, "<script>alert(1)</script> & more")]
    text = to_webvtt(cues)
    assert text.startswith("WEBVTT")
    assert "<script>" not in text
    caption = webvtt.from_string(text).captions[0]
    assert (caption.start, caption.end) == ("00:00:00.500", "00:00:02.500")
    assert parse_webvtt(text) == cues


def test_plain_text_has_a_segment_a_line():
    transcript = Transcript("m", (Segment(0, 1, " One. "), Segment(1, 2, "Two.")))
    assert to_text(transcript) == "One.\nTwo.\n"


def test_caption_import_builds_segments_with_spread_word_times():
    transcript = transcript_from_cues([Cue(1000, 3000, "two words")], media_id="m")
    (segment,) = transcript.segments
    assert (segment.start_s, segment.end_s, segment.text) == (1.0, 3.0, "two words")
    assert [w.text for w in segment.words] == ["two", "words"]
    assert segment.words[0].start_s == 1.0 and segment.words[-1].end_s == 3.0


@pytest.mark.parametrize("name,data", [("bad.srt", b"1\nnot a time\nhello\n\n"),
                                       ("bad.vtt", b"WEBVTT\n\nnonsense --> also nonsense\nhi\n")])
def test_broken_caption_files_are_refused_with_a_plain_reason(name, data):
    with pytest.raises(LoupeError, match="not a valid"):
        read_captions(name, data)


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                max_size=40).map(lambda s: " ".join(s.replace("-->", "").split())).filter(bool)
_cue_lists = st.lists(st.tuples(st.integers(0, 10 * 3_600_000), st.integers(0, 60_000),
                                st.lists(_text, min_size=1, max_size=2)), min_size=1, max_size=8)


def _cues(raw) -> list[Cue]:
    cues, at = [], 0
    for gap, length, lines in raw:
        start = at + gap % 5000
        cues.append(Cue(start, start + length, "\n".join(lines)))
        at = start + length
    return cues


@settings(max_examples=120, deadline=None)
@given(_cue_lists)
def test_srt_export_then_import_returns_the_same_cues(raw):
    cues = _cues(raw)
    assert parse_srt(to_srt(cues)) == cues


@settings(max_examples=120, deadline=None)
@given(_cue_lists)
def test_webvtt_export_then_import_returns_the_same_cues(raw):
    cues = _cues(raw)
    assert parse_webvtt(to_webvtt(cues)) == cues
