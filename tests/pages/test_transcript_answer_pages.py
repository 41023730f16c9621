"""AppTest runs: marking a transcript reviewed on the Transcripts page records the reviewer's answer, and Results
shows it per reviewer and as the speech model's accuracy (1 - WER), apart from the image-label accuracy."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.domain import HumanLoop, Segment, Transcript, Word, Workflow
from core.loops import loop_id_for

ROOT = Path(__file__).resolve().parents[2]


def _transcript(text: str, confidences: tuple[float, ...]) -> Transcript:
    words = tuple(Word(t, i * 0.4, i * 0.4 + 0.3, c) for i, (t, c) in enumerate(zip(text.split(), confidences)))
    return Transcript("", (Segment(0.0, words[-1].end_s, text, words),), language="en", model_version="test-model")


@pytest.fixture
def loop(seeded) -> HumanLoop:
    """welcome.wav, transcribed by the "model" with one unsure word, in an open transcript_review loop."""
    media_id = seeded.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    seeded.transcripts.save_model_transcript(media_id, _transcript("welcome to loop on aws", (0.9, 0.9, 0.3, 0.9, 0.9)))
    seeded.workflows.save(Workflow(name="transcripts", task_type="transcript_review"))
    loop = HumanLoop(loop_id=loop_id_for("transcripts", media_id), media_id=media_id, workflow="transcripts")
    seeded.loops.create(loop)
    return loop


def test_marking_a_transcript_reviewed_on_the_page_records_the_reviewers_answer_once(app_at, seeded, loop):
    at = app_at("pages/transcript.py", reviewer="ann")
    at.button(key=f"transcript.{loop.media_id[:12]}.v1.edit.0").click().run()
    at.text_area(key=f"transcript.{loop.media_id[:12]}.v1.seg.0").set_value("welcome to loupe on aws").run()
    at.button(key="transcript.save").click().run()
    at.button(key="transcript.reviewed").click().run()
    at.button(key="transcript.reviewed").click().run()  # a second click records nothing new
    assert not at.exception

    (answer,) = seeded.answers.for_loop(loop.loop_id)
    assert answer.worker_id == "ann"
    assert answer.content == {"transcript": {"version": 2, "text": "welcome to loupe on aws",
                                             "wordErrorRateOfModel": 0.2}}
    assert answer.acceptance_time and answer.acceptance_time <= answer.submission_time
    assert answer.time_spent_s >= 0
    assert seeded.loops.get(loop.loop_id).status == "Completed"


def test_results_show_transcript_reviews_per_reviewer_and_the_transcription_accuracy(app_at, seeded, loop):
    seeded.transcripts.save(loop.media_id, _transcript("welcome to loupe on aws", (1,) * 5), base_number=1,
                            saved_by="ann")
    seeded.transcripts.mark_reviewed(loop.media_id, reviewer="ann")

    at = app_at("pages/results.py", reviewer="ann")

    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Transcription model accuracy vs people (1 − WER)"] == "80%"
    assert metrics["Mean word error rate"] == "20%"
    assert metrics["Image-label model accuracy"] == "—"  # no label decisions: kept apart
    reviewers = at.dataframe[0].value
    assert list(reviewers["reviewer"]) == ["ann"] and list(reviewers["loops answered"]) == [1]
    assert list(reviewers["of which transcript reviews"]) == [1]
