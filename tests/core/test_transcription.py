"""Real transcription with the bundled tiny.en: espeak-ng speech and a PyAV video with known words."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.config import Config
from core.domain import Job, utc_now
from core.jobs import JobCancelled
from core.service import Service
from core.transcript_text import word_error_rate
from tests.speech import SPEECH_TEXT, VIDEO_TEXT, make_speech_video, make_speech_wav

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
WER_BOUND = 0.35  # tiny.en on espeak's robotic voice; measured 0.07 and 0.17 on these sentences


@pytest.fixture(scope="module")
def transcribed(tmp_path_factory):
    """One service with a speech clip and a video, both transcribed once by the real model."""
    folder = tmp_path_factory.mktemp("speech")
    wav = make_speech_wav(folder / "speech.wav")
    mp4 = make_speech_video(folder / "speech.mp4")
    service = Service(Config(data_dir=folder / "data"))
    ids = {name: service.catalog.ingest_file(path).media_id for name, path in (("wav", wav), ("mp4", mp4))}
    job = service.transcription.submit(list(ids.values()), created_by="test")
    finished = service.jobs.wait(job.job_id, 300)
    assert finished.status == "succeeded", finished.error
    yield service, ids, finished
    service.close()


@pytest.mark.parametrize("name,text", [("wav", SPEECH_TEXT), ("mp4", VIDEO_TEXT)])
def test_speech_is_transcribed_within_a_word_error_rate_bound(transcribed, name, text):
    service, ids, _ = transcribed
    transcript = service.transcripts.latest(ids[name]).transcript
    assert word_error_rate(text, transcript.text) <= WER_BOUND, transcript.text
    assert transcript.language == "en"


@pytest.mark.parametrize("name", ["wav", "mp4"])
def test_word_timings_increase_within_the_media_and_confidences_are_fractions(transcribed, name):
    service, ids, _ = transcribed
    item = service.catalog.get(ids[name])
    words = service.transcripts.latest(ids[name]).transcript.words
    assert len(words) >= 8
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.start_s <= w.end_s <= item.duration_s + 0.05 for w in words)
    assert all(0.0 <= w.confidence <= 1.0 for w in words)


def test_the_model_transcript_is_version_1_and_the_item_is_marked_transcribed(transcribed):
    service, ids, job = transcribed
    version = service.transcripts.latest(ids["wav"])
    assert version.number == 1 and version.note == "model"
    assert version.transcript.model_version.startswith("faster-whisper-1.2.1/tiny.en")
    assert service.catalog.get(ids["wav"]).status == "transcribed"
    assert job.result["counts"] == {"transcribed": 2}
    assert job.done == job.total > 0


def test_the_model_loads_once_and_is_shared_by_jobs(transcribed):
    service, ids, _ = transcribed
    transcriber = service.transcription.transcriber()
    model = transcriber.model()
    job = service.transcription.submit([ids["wav"]], force=True)
    assert service.jobs.wait(job.job_id, 120).status == "succeeded"
    assert service.transcription.transcriber() is transcriber and transcriber.model() is model
    assert service.transcripts.latest_number(ids["wav"]) == 2


def test_a_batch_with_bad_items_transcribes_the_good_ones_and_names_the_problems(transcribed):
    service, ids, _ = transcribed
    image = service.catalog.ingest_file(ROOT / "demo" / "cat.jpg").media_id
    job = service.jobs.wait(service.transcription.submit(["no-such-id", image, ids["mp4"]]).job_id, 120)
    outcomes = job.result["outcomes"]
    assert [o["status"] for o in outcomes] == ["failed", "failed", "existing"]
    assert "No media" in outcomes[0]["reason"] and "only audio and video" in outcomes[1]["reason"]


def test_a_cancelled_job_stops_and_stores_nothing(transcribed):
    service, ids, _ = transcribed
    before = service.transcripts.latest_number(ids["mp4"])
    service.jobs.register("transcribe-cancelled-at-once", _cancel_then_transcribe(service))
    job = service.jobs.wait(service.jobs.submit("transcribe-cancelled-at-once", {"media_ids": [ids["mp4"]],
                                                                                 "force": True}).job_id, 120)
    assert job.status == "cancelled"
    assert service.transcripts.latest_number(ids["mp4"]) == before


def _cancel_then_transcribe(service):
    def handler(ctx, params):
        service.jobs.cancel(ctx.job.job_id)  # as if the user pressed Cancel while the model was running
        return service.transcription.run_job(ctx, params)

    return handler


class RecordingContext:
    """A stand-in for the job runner's context that records progress and cancels on request."""

    def __init__(self, cancel_after_reports: int | None = None):
        self.job = Job(job_id=uuid.uuid4().hex, kind="transcribe", created_at=utc_now())
        self.reports: list[tuple[int, int, str]] = []
        self.cancel_after_reports = cancel_after_reports

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        self.reports.append((done, total, message))

    def is_cancelled(self) -> bool:
        return self.cancel_after_reports is not None and len(self.reports) > self.cancel_after_reports

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise JobCancelled()


def test_progress_counts_transcribed_seconds_against_the_media_duration(transcribed):
    service, ids, _ = transcribed
    duration_s = service.catalog.get(ids["mp4"]).duration_s
    ctx = RecordingContext()
    service.transcription.run_job(ctx, {"media_ids": [ids["mp4"]], "force": True})
    totals = {total for _, total, _ in ctx.reports}
    assert totals == {math.ceil(duration_s)}
    done = [d for d, _, _ in ctx.reports]
    assert done == sorted(done) and done[0] == 0 and done[-1] == math.ceil(duration_s)
    assert any("s transcribed" in message for _, _, message in ctx.reports)  # reported from inside the model's loop


def test_a_cancel_while_the_model_runs_stops_it_and_stores_nothing(transcribed):
    service, ids, _ = transcribed
    before = service.transcripts.latest_number(ids["wav"])
    ctx = RecordingContext(cancel_after_reports=1)  # the first report is "0 of 1 chunks done"
    with pytest.raises(JobCancelled):
        service.transcription.run_job(ctx, {"media_ids": [ids["wav"]], "force": True})
    assert service.transcripts.latest_number(ids["wav"]) == before


def test_the_cli_prints_each_items_words_as_json(transcribed, tmp_path):
    service, ids, _ = transcribed
    env = {**os.environ, "LOUPE_DATA_DIR": str(service.config.data_dir), "OMP_WAIT_POLICY": "PASSIVE"}
    out = subprocess.run([sys.executable, "-m", "core", "transcribe", ids["wav"][:12], "nope", "--json"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 1  # one item was not found
    assert set(lines[0]) >= {"media_id", "file", "language", "duration_s", "text", "words"}
    assert set(lines[0]["words"][0]) == {"word", "start_s", "end_s", "confidence"}
    assert lines[1]["error"] == "No media with id 'nope' exists."
    srt_path = tmp_path / "speech.srt"
    out = subprocess.run([sys.executable, "-m", "core", "export-transcript", ids["wav"], "--format", "srt",
                          "--out", str(srt_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import srt

    cues = list(srt.parse(srt_path.read_text()))
    assert cues and "fox" in " ".join(c.content for c in cues).lower()


def test_a_long_file_runs_as_window_chunks_in_process_and_a_resumed_job_repeats_none(tmp_path):
    from core.cluster import done_chunks
    from tests.speech import make_sparse_speech

    clip = make_sparse_speech(tmp_path, 2, every_s=20)  # 120 s, a sentence every 20 s: 5 windows of 30 s
    with Service(Config(data_dir=tmp_path / "data", transcribe_window_s=30)) as service:
        media_id = service.catalog.ingest_file(clip).media_id
        ctx = RecordingContext()
        result = service.transcription.run_job(ctx, {"media_ids": [media_id], "force": True})
        assert result["counts"] == {"transcribed": 1}
        chunks = done_chunks(service.records, ctx.job.job_id)
        assert sorted(chunks) == [f"00000w{k:05d}" for k in range(5)]  # recorded, so a restart resumes
        assert {c["where"] for c in chunks.values()} == {"in-process"}
        assert len({done for done, _, _ in ctx.reports}) >= 5  # progress moves window by window, at least
        words = service.transcripts.latest(media_id).transcript.words
        whole = service.transcription.transcriber().transcribe(service.catalog.media_path(media_id))
        assert [w.text for w in words] == [w.text for w in whole.words]  # the same windows as one whole-file pass
        service.transcription.run_job(ctx, {"media_ids": [media_id], "force": True})  # the job resumed
        assert service.transcripts.latest_number(media_id) == 1  # one version for the run
        assert {c["runs"] for c in done_chunks(service.records, ctx.job.job_id).values()} == {1}


def test_a_cancelled_long_file_leaves_no_window_records_behind(tmp_path):
    from tests.speech import make_sparse_speech

    clip = make_sparse_speech(tmp_path, 2, every_s=20)
    with Service(Config(data_dir=tmp_path / "data", transcribe_window_s=30)) as service:
        media_id = service.catalog.ingest_file(clip).media_id
        ctx = RecordingContext(cancel_after_reports=6)  # a window or two in
        with pytest.raises(JobCancelled):
            service.transcription.run_job(ctx, {"media_ids": [media_id], "force": True})
        assert not list(service.records.query("transcript_window"))
        assert service.transcripts.latest_number(media_id) == 0
