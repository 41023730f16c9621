"""Large records: a 3-hour transcript (about 27,000 timed words) round-trips on every backend, edits included."""
from __future__ import annotations

import json
import random

import pytest

from core.domain import Segment, Transcript, Word, as_dict
from core.errors import VersionConflict

VOCABULARY = ("the a and to of in that it is was for on you with he be this have are not they at but we his from "
              "say her she or an will my one all would there their what so up out if about who get which go me "
              "when make can like time no just him know take people into year your good some could them see "
              "other than then now look only come its over think also back after use two how our work first well "
              "way even new want because any these give day most us moderation reviewer threshold transcript "
              "confidence rekognition augmented pipeline workflow dataset annotation consolidation").split()


def three_hour_transcript(seed: int = 7) -> dict:
    """A realistic Whisper-like transcript: 10,800 s of speech, about 2.5 words per second, 12-word segments."""
    rng = random.Random(seed)
    segments, words, t = [], [], 0.0
    while t < 3 * 3600:
        start = round(t, 2)
        end = round(start + rng.uniform(0.12, 0.55), 2)
        token = rng.choice(VOCABULARY) + rng.choice(("", "", "", ",", "."))
        words.append(Word(text=" " + token, start_s=start, end_s=end, confidence=round(rng.uniform(0.3, 1.0), 4)))
        t = end + rng.uniform(0.0, 0.12)
        if len(words) == 12:
            segments.append(Segment(start_s=words[0].start_s, end_s=words[-1].end_s,
                                    text="".join(w.text for w in words), words=tuple(words)))
            words = []
    transcript = Transcript(media_id="f" * 64, segments=tuple(segments), language="en", duration_s=10800.0,
                            model_version="faster-whisper tiny.en 1.2.1", created_by="model")
    return as_dict(transcript)


@pytest.fixture(scope="module")
def long_body() -> dict:
    body = three_hour_transcript()
    assert 26_000 <= sum(len(s["words"]) for s in body["segments"]) <= 28_500
    assert len(json.dumps(body)) > 2_000_000  # five times DynamoDB's 400 KB item limit
    return body


def test_a_three_hour_transcript_round_trips_exactly(records, long_body):
    records.create("transcript", "m1#v1", long_body, parent="m1")
    got = records.get("transcript", "m1#v1")
    assert got.body == long_body and got.version == 1
    assert [r.body for r in records.query("transcript", parent="m1")] == [long_body]


def test_editing_a_long_transcript_is_versioned_like_any_record(records, long_body):
    records.create("transcript", "m1", long_body)
    edited = json.loads(json.dumps(long_body))
    edited["segments"][100]["words"][3]["text"] = " corrected"
    edited["created_by"] = "alice"
    records.put("transcript", "m1", edited, expected_version=1)
    with pytest.raises(VersionConflict) as info:
        records.put("transcript", "m1", long_body, expected_version=1)
    assert info.value.current_version == 2 and info.value.current_body == edited
    assert records.get("transcript", "m1").body == edited
    records.delete("transcript", "m1", expected_version=2)
    assert records.get("transcript", "m1") is None


def test_put_many_stores_long_and_short_bodies_together(records, long_body):
    from core.stores.base import Record

    records.put_many([Record("transcript", "long", long_body), Record("transcript", "short", {"segments": []})])
    records.put_many([Record("transcript", "long", {**long_body, "language": "en-GB"}, version=2)])
    got = records.get("transcript", "long")
    assert got.version == 2 and got.body["language"] == "en-GB" and got.body["segments"] == long_body["segments"]
    assert [r.key for r in records.query("transcript")] == ["long", "short"]
