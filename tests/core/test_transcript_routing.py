"""Transcript-review workflows route audio and video whose model transcript has low-confidence words."""
from __future__ import annotations

from pathlib import Path

from core.domain import Segment, Transcript, Word, Workflow
from core.routing_policy import RoutingPolicy

ROOT = Path(__file__).resolve().parents[2]


def _transcript(media_id: str, confidences: list[float]) -> Transcript:
    words = tuple(Word(f"w{i}", i * 0.5, i * 0.5 + 0.4, c) for i, c in enumerate(confidences))
    return Transcript(media_id, (Segment(0.0, len(words) * 0.5, " ".join(w.text for w in words), words),),
                      language="en", model_version="test")


def test_only_transcripts_with_a_word_below_the_threshold_go_to_people_and_review_completes_the_loop(service):
    unsure = service.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    sure = service.catalog.ingest_file(ROOT / "demo" / "title-card.mp4").media_id
    service.catalog.ingest_file(ROOT / "demo" / "cat.jpg")
    service.transcripts.save_model_transcript(unsure, _transcript(unsure, [0.95, 0.31, 0.9]))
    service.transcripts.save_model_transcript(sure, _transcript(sure, [0.95, 0.88]))
    service.workflows.save(Workflow("speech-check", task_type="transcript_review",
                                    routing=RoutingPolicy(accept_at=0.6)))

    started = service.loop_starter.start_loops("speech-check")
    again = service.loop_starter.start_loops("speech-check")

    assert (started.created, again.created, again.existing) == (1, 0, 1)
    (loop,) = service.loops.list(workflow="speech-check")
    assert loop.media_id == unsure and loop.reasons == ("1 word below 60% confidence",)
    assert service.catalog.get(unsure).status == "in_review"
    service.transcripts.mark_reviewed(unsure, reviewer="ann")
    assert service.loops.get(loop.loop_id).status == "Completed"
