"""Amazon Transcribe JSON: Loupe reads AWS's output and writes the same shape, and a transcript round-trips."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError
from core.formats.transcribe import parse_transcribe_json, to_transcribe_json

AWS_SAMPLE = {
    "jobName": "demo", "accountId": "123456789012", "status": "COMPLETED",
    "results": {
        "transcripts": [{"transcript": "Welcome to Amazon Transcribe."}],
        "items": [
            {"start_time": "0.64", "end_time": "1.09", "alternatives": [{"confidence": "1.0", "content": "Welcome"}],
             "type": "pronunciation"},
            {"start_time": "1.09", "end_time": "1.21", "alternatives": [{"confidence": "0.87", "content": "to"}],
             "type": "pronunciation"},
            {"start_time": "1.21", "end_time": "1.58", "alternatives": [{"confidence": "0.5", "content": "Amazon"}],
             "type": "pronunciation"},
            {"start_time": "1.58", "end_time": "2.2", "alternatives": [{"confidence": "0.99", "content": "Transcribe"}],
             "type": "pronunciation"},
            {"alternatives": [{"confidence": "0.0", "content": "."}], "type": "punctuation"},
        ],
    },
}


def test_aws_output_is_read_with_punctuation_joined_to_its_word():
    transcript = parse_transcribe_json(AWS_SAMPLE, media_id="m")
    assert transcript.text == "Welcome to Amazon Transcribe."
    assert [(w.text, w.start_s, w.end_s, w.confidence) for w in transcript.words] == [
        ("Welcome", 0.64, 1.09, 1.0), ("to", 1.09, 1.21, 0.87), ("Amazon", 1.21, 1.58, 0.5),
        ("Transcribe.", 1.58, 2.2, 0.99)]


def test_export_writes_numbers_as_strings_and_punctuation_without_times():
    words = (Word("Hello,", 0.0, 0.5, 0.75), Word("world.", 0.6, 1.0, 1.0))
    data = to_transcribe_json(Transcript("m", (Segment(0.0, 1.0, "Hello, world.", words),), language="en-US"))
    items = data["results"]["items"]
    assert [i["type"] for i in items] == ["pronunciation", "punctuation", "pronunciation", "punctuation"]
    assert items[0]["start_time"] == "0.000"
    assert items[0]["alternatives"][0] == {"confidence": "0.7500", "content": "Hello"}
    assert "start_time" not in items[1] and items[1]["alternatives"][0]["content"] == ","
    assert data["results"]["transcripts"] == [{"transcript": "Hello, world."}]
    json.dumps(data)


def test_json_that_is_not_transcribe_output_is_refused_plainly():
    with pytest.raises(LoupeError, match="not Amazon Transcribe output"):
        parse_transcribe_json({"hello": "world"})
    with pytest.raises(LoupeError, match="item 0 is malformed"):
        parse_transcribe_json({"results": {"items": [{"type": "pronunciation", "alternatives": []}]}})


_word_text = st.builds(lambda w, p: w + p, st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCÉé'0123456789", min_size=1,
                                                    max_size=8), st.sampled_from(["", "", ",", ".", "?", "!"]))


@st.composite
def _transcripts(draw) -> Transcript:
    segments, at_ms = [], 0
    for _ in range(draw(st.integers(1, 4))):
        words = []
        for _ in range(draw(st.integers(1, 6))):
            start = at_ms + draw(st.integers(0, 2000))
            end = start + draw(st.integers(0, 1500))
            words.append(Word(draw(_word_text), start / 1000, end / 1000, draw(st.integers(0, 10_000)) / 10_000))
            at_ms = end
        segments.append(Segment(words[0].start_s, words[-1].end_s, " ".join(w.text for w in words), tuple(words)))
    return Transcript("m", tuple(segments), language="en-US", duration_s=at_ms / 1000 or None,
                      model_version="amazon-transcribe")


@settings(max_examples=150, deadline=None)
@given(_transcripts())
def test_a_transcript_round_trips_through_transcribe_json(transcript):
    data = json.loads(json.dumps(to_transcribe_json(transcript)))
    assert parse_transcribe_json(data, media_id="m") == transcript
