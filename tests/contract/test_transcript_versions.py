"""Transcript versions on every store backend: create-only versions, conflict copies, the head hint, tweaks."""
from __future__ import annotations

import pytest

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError
from core.transcript_text import Tweak
from core.transcripts import Transcripts


def _transcript(text: str) -> Transcript:
    words = tuple(Word(t, i * 0.5, i * 0.5 + 0.4, 0.5) for i, t in enumerate(text.split()))
    return Transcript("", (Segment(0.0, len(words) * 0.5, text, words),), model_version="m")


def test_versions_and_a_conflicting_save_are_all_kept(records):
    transcripts = Transcripts(records)
    transcripts.save_model_transcript("media-1", _transcript("one two three"))
    ann = transcripts.save("media-1", _transcript("one two four"), base_number=1, saved_by="ann")
    bob = transcripts.save("media-1", _transcript("one too three"), base_number=1, saved_by="bob")
    assert (ann.version.number, bob.version.number, bob.conflict_with.number) == (2, 3, 2)
    fresh = Transcripts(records)  # another process: nothing cached
    assert [v.transcript.text for v in fresh.versions("media-1")] == ["one too three", "one two four", "one two three"]
    assert fresh.latest_number("media-2") == 0
    state = fresh.mark_reviewed("media-1", reviewer="ann")
    assert state.reviewed_number == 3 and fresh.review_state("media-1").reviewed_by == "ann"


def test_project_tweaks_are_saved_with_version_checks(records):
    transcripts = Transcripts(records)
    version = transcripts.save_tweaks([Tweak("A.W.S.", "AWS")], expected_version=None)
    transcripts.save_tweaks([Tweak("A.W.S.", "AWS"), Tweak("loop", "Loupe")], expected_version=version)
    with pytest.raises(LoupeError):
        transcripts.save_tweaks([], expected_version=version)
    assert len(transcripts.tweaks()[0]) == 2
