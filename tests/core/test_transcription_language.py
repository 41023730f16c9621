"""One language per file: a long file's windows, with the multilingual base model and no language set, are all
transcribed in the language decided once from the file's start (real model, espeak-ng speech in two languages)."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.cluster import Chunk, done_chunks
from core.config import Config
from core.service import Service
from core.transcribers import join_base_model
from core.transcription import JOB_KIND, LANGUAGE_KIND, language_key
from tests.core.test_transcription import RecordingContext
from tests.speech import make_two_language_speech

pytestmark = pytest.mark.slow
WINDOW_S = 20  # German from 0 to 24 s, silence to 40 s, English to 46 s: three windows, the last one English only


@pytest.fixture(scope="module")
def base_model(tmp_path_factory) -> Path:
    """The bundled multilingual base, joined once for the module; a folder is as good a model name as "base"."""
    return join_base_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_two_language_speech(tmp_path_factory.mktemp("speech"))


def _window_chunk(media_id: str, run_since: str, index: int, windows: int = 3) -> Chunk:
    """A window chunk as a job makes it (core/transcription.py `transcribe_in_chunks`)."""
    payload = {"force": True, "model": "", "language": None, "run_since": run_since, "ids": [media_id],
               "window": index, "windows": windows, "window_s": float(WINDOW_S)}
    return Chunk(f"00000w{index:05d}", payload, float(WINDOW_S))


def _window_languages(service: Service, job_id: str) -> list[str]:
    return [body["window"]["language"] for _, body in sorted(done_chunks(service.records, job_id).items())]


def test_every_window_of_a_multilingual_file_is_transcribed_in_the_language_of_its_start(base_model, clip, tmp_path):
    config = Config(data_dir=tmp_path / "data", transcriber=str(base_model), transcribe_window_s=WINDOW_S)
    with Service(config) as service:
        media_id = service.catalog.ingest_file(clip).media_id
        transcriber = service.transcription.transcriber()
        alone = transcriber.transcribe_windows(service.catalog.media_path(media_id), first=2, window_s=WINDOW_S)
        assert alone.language == "en"  # the last window on its own is English: each deciding alone made a patchwork
        ctx = RecordingContext()
        result = service.transcription.run_job(ctx, {"media_ids": [media_id], "force": True})
        assert result["counts"] == {"transcribed": 1}
        assert sorted(done_chunks(service.records, ctx.job.job_id)) == [f"00000w{k:05d}" for k in range(3)]
        assert _window_languages(service, ctx.job.job_id) == ["de", "de", "de"]
        assert result["outcomes"][0]["window_languages"] == ["de", "de", "de"]  # what the job's result says
        version = service.transcripts.latest(media_id)
        assert version.number == 1 and version.transcript.language == "de"  # the version records it
        assert any(w in version.transcript.text for w in ("Berlin", "Hamburg", "Kinder", "Garten")), \
            version.transcript.text
        assert not list(service.records.query(LANGUAGE_KIND))  # the decision lives on in the version


def test_a_window_run_after_a_restart_uses_the_stored_language_and_detects_nothing(base_model, clip, tmp_path):
    config = Config(data_dir=tmp_path / "data", transcriber=str(base_model), transcribe_window_s=WINDOW_S)
    ctx = RecordingContext()
    with Service(config) as service:  # the job's first window runs, then the app dies
        media_id = service.catalog.ingest_file(clip).media_id
        first = _window_chunk(media_id, ctx.job.created_at, 0)
        service.transcription.work.submit(JOB_KIND, ctx.job.job_id, first).result()
        key = language_key(ctx.job.job_id, media_id)
        decided = service.records.get(LANGUAGE_KIND, key)
        assert decided.body["language"] == "de" and decided.body["decided_by_window"] == 0
        # a stored decision other than what detecting again would say ("de"), to see which one the windows use
        service.records.put(LANGUAGE_KIND, key, {**decided.body, "language": "es"}, expected_version=decided.version,
                            parent=ctx.job.job_id)
    with Service(config) as service:  # restarted: the job resumes with the windows that are not done
        result = service.transcription.run_job(ctx, {"media_ids": [media_id], "force": True})
        assert result["counts"] == {"transcribed": 1}
        chunks = done_chunks(service.records, ctx.job.job_id)
        assert {index: body["runs"] for index, body in chunks.items()} == {f"00000w{k:05d}": 1 for k in range(3)}
        assert _window_languages(service, ctx.job.job_id) == ["de", "es", "es"]  # the stored one, not detected
        assert service.transcripts.latest(media_id).transcript.language == "es"


def test_an_english_only_model_transcribes_a_long_file_in_english_with_no_language_step(clip, tmp_path):
    with Service(Config(data_dir=tmp_path / "data", transcribe_window_s=WINDOW_S)) as service:  # tiny.en
        media_id = service.catalog.ingest_file(clip).media_id
        ctx = RecordingContext()
        summary = service.transcription.transcribe_chunk(ctx.job.job_id, _window_chunk(media_id, ctx.job.created_at,
                                                                                       2).payload)
        assert summary["window"] == {"media_id": media_id, "index": 2, "status": "transcribed", "reason": "",
                                     "language": "en"}
        assert not list(service.records.query(LANGUAGE_KIND))  # nothing decided, nothing stored
        assert "fox" in service.records.get("transcript_window", f"{ctx.job.job_id}/{media_id}/00002").body[
            "segments"][0]["text"].lower()
