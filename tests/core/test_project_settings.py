"""Project settings: saved overrides over the configuration, validated in plain words, versioned, and used by
the next labeling or transcription run without a restart."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.config import Config
from core.domain import Prediction, Segment, Transcript, Word
from core.errors import LoupeError, VersionConflict
from core.labelers.local import LocalLabeler
from core.project_settings import KEY, KIND, EffectiveSettings, ProjectSettings, SettingsInvalid
from core.service import Service
from core.transcribers import resolve_model_folder
from core.transcript_text import word_error_rate
from tests.core.labeling_fixtures import CAT, COFFEE
from tests.speech import SPEECH_TEXT, make_speech_wav


def test_with_nothing_saved_the_configuration_values_apply(tmp_path):
    config = Config(data_dir=tmp_path / "data", transcriber_beam_size=3, caption_lines=1, labeler="rekognition")
    svc = Service(config, start_jobs=False)
    try:
        assert svc.settings.stored().version == 0
        assert svc.settings.effective() == EffectiveSettings.from_config(config)
        assert svc.settings.effective().transcriber_beam_size == 3 and svc.settings.effective().labeler == "rekognition"
    finally:
        svc.close()


def test_a_saved_value_overrides_the_configuration_and_reset_brings_the_default_back(service):
    saved = service.settings.save({"transcriber_beam_size": 2, "transcriber_language": "de", "caption_lines": 1,
                                   "transcriber_vad": False}, expected_version=0, saved_by="ann")
    assert saved.version == 1 and saved.saved_by == "ann"
    now = service.settings.effective()
    assert (now.transcriber_beam_size, now.transcriber_language, now.caption_lines,
            now.transcriber_vad) == (2, "de", 1, False)
    assert now.transcriber == service.config.transcriber  # not saved: follows the configuration
    record = service.records.get(KIND, KEY)
    assert record.body["overrides"] == {"transcriber_beam_size": 2, "transcriber_language": "de", "caption_lines": 1,
                                        "transcriber_vad": False}
    again = service.settings.save({"caption_line_chars": 30}, expected_version=1)
    assert again.overrides["transcriber_beam_size"] == 2 and again.overrides["caption_line_chars"] == 30
    service.settings.reset(expected_version=again.version)
    assert service.settings.effective() == service.settings.defaults()


def test_a_value_equal_to_the_configuration_default_is_not_stored(service):
    saved = service.settings.save({"transcriber_beam_size": service.config.transcriber_beam_size, "labeler": "local",
                                   "auto_label": False}, expected_version=0)
    assert dict(saved.overrides) == {"auto_label": False}


def test_bad_values_are_refused_each_in_plain_words_and_nothing_is_saved(service):
    with pytest.raises(SettingsInvalid) as caught:
        service.settings.save({"transcriber_beam_size": 0, "caption_lines": 9, "transcriber_language": "english",
                               "labeler": "gpt", "auto_label": "yes", "caption_gap_ms": "soon", "colour": "red"},
                              expected_version=0)
    message = str(caught.value)
    assert "Beam size: 0 is outside 1..10." in message
    assert "Caption lines: 9 is outside 1..4." in message
    assert "'english' is not a language code" in message
    assert "'gpt' is not a labeler; choose local or rekognition." in message
    assert "'yes' is not on or off." in message and "'soon' is not a whole number." in message
    assert "'colour' is not a setting" in message and len(caught.value.problems) == 7
    assert service.settings.stored().version == 0 and service.records.get(KIND, KEY) is None


@pytest.mark.parametrize("name", ["small", "large-v3", "openai/whisper-base"])
def test_a_hub_model_name_is_refused_exactly_as_the_transcriber_refuses_it(service, name, tmp_path):
    with pytest.raises(LoupeError) as from_transcribers:
        resolve_model_folder(name, tmp_path)
    with pytest.raises(SettingsInvalid) as from_settings:
        service.settings.save({"transcriber": name}, expected_version=0)
    assert from_settings.value.problems == (f"Transcription engine: {from_transcribers.value}",)
    assert "never downloads weights" in str(from_settings.value)


def test_a_model_folder_must_exist_and_hold_a_model(service, tmp_path):
    with pytest.raises(SettingsInvalid, match="does not exist"):
        service.settings.save({"transcriber": str(tmp_path / "nowhere")}, expected_version=0)
    empty = tmp_path / "empty-model"
    empty.mkdir()
    with pytest.raises(SettingsInvalid, match="holds no CTranslate2 Whisper model: it needs model.bin"):
        service.settings.save({"transcriber": str(empty)}, expected_version=0)
    (empty / "model.bin").write_bytes(b"weights")
    (empty / "config.json").write_text("{}")
    saved = service.settings.save({"transcriber": str(empty)}, expected_version=0)
    assert service.settings.effective().transcriber == str(empty) and saved.version == 1


def test_amazon_transcribe_needs_a_bucket_before_it_can_be_chosen(service):
    no_bucket = ProjectSettings(service.records, replace(service.config, s3_bucket=""))
    with pytest.raises(SettingsInvalid, match="set LOUPE_S3_BUCKET"):
        no_bucket.save({"transcriber": "amazon-transcribe"}, expected_version=0)
    with_bucket = ProjectSettings(service.records, replace(service.config, s3_bucket="media-bucket"))
    assert with_bucket.save({"transcriber": "amazon-transcribe"}, expected_version=0).version == 1


def test_two_admins_saving_at_once_get_a_conflict_and_the_first_save_is_kept(service):
    service.settings.save({"caption_lines": 1}, expected_version=0)  # both admins open version 1
    service.settings.save({"transcriber_beam_size": 3}, expected_version=1, saved_by="ann")
    with pytest.raises(VersionConflict) as caught:
        service.settings.save({"transcriber_beam_size": 8}, expected_version=1, saved_by="bob")
    assert caught.value.current_version == 2 and "Nothing was overwritten" in str(caught.value)
    assert service.settings.effective().transcriber_beam_size == 3 and service.settings.stored().saved_by == "ann"
    with pytest.raises(VersionConflict):
        service.settings.reset(expected_version=1)
    assert service.settings.effective().caption_lines == 1


def test_two_first_saves_conflict_too(service):
    service.settings.save({"caption_lines": 1}, expected_version=0)
    with pytest.raises(VersionConflict):
        service.settings.save({"caption_lines": 3}, expected_version=0)
    assert service.settings.effective().caption_lines == 1


def test_auto_label_switched_on_in_settings_labels_the_next_upload_without_a_restart(config, tmp_path):
    config = replace(config, auto_label=False)
    with Service(config, labelers={"local": LocalLabeler(tmp_path / "models")}) as service:
        first = service.jobs.wait(service.submit_uploads([("cat.png", CAT.read_bytes())]).job_id, 60)
        assert "label_job_id" not in first.result
        service.settings.save({"auto_label": True}, expected_version=0, saved_by="admin")
        second = service.jobs.wait(service.submit_uploads([("coffee.png", COFFEE.read_bytes())]).job_id, 60)
        label_job = service.jobs.wait(second.result["label_job_id"], 120)
        assert label_job.status == "succeeded" and label_job.result["labeled"] == 1
        labeled = [o["media_id"] for o in label_job.result["outcomes"]]
        assert service.predictions.get(labeled[0]).model_version.startswith("loupe-local-1/")


class RecordingLabeler:
    name = "rekognition"
    model_version = "recording-1"

    def __init__(self):
        self.calls = 0

    def predict(self, images):
        self.calls += 1
        return [Prediction(media_id=i.media_id, model_version=self.model_version, labels=()) for i in images]


def test_the_labeler_chosen_in_settings_is_the_one_a_run_uses(config):
    recording = RecordingLabeler()
    with Service(config, labelers={"rekognition": recording}) as service:
        media_id = service.catalog.ingest_file(CAT).media_id
        service.settings.save({"labeler": "rekognition"}, expected_version=0)
        job = service.jobs.wait(service.labeling.submit([media_id]).job_id, 60)
        assert job.params["backend"] == "rekognition" and job.status == "succeeded" and recording.calls == 1
        assert service.predictions.get(media_id).model_version == "recording-1"


class RecordingTranscriber:
    model_version = "recording-1"

    def __init__(self):
        self.calls: list[dict] = []

    def transcribe(self, path: Path, **options) -> Transcript:
        self.calls.append(options)
        word = Word("hello", 0.0, 0.5, 0.9)
        return Transcript(media_id="", segments=(Segment(0.0, 0.5, "hello", (word,)),), language="en",
                          duration_s=1.0, model_version=self.model_version)


def test_language_beam_size_and_vad_from_settings_reach_the_transcriber(config):
    recording = RecordingTranscriber()
    with Service(config, transcribers={config.transcriber: recording}) as service:
        media_id = service.catalog.ingest_file(Path(__file__).resolve().parents[2] / "demo" / "welcome.wav").media_id
        service.settings.save({"transcriber_language": "fr", "transcriber_beam_size": 2, "transcriber_vad": False},
                              expected_version=0)
        outcome = service.transcription.transcribe_media(media_id)
        assert outcome.status == "transcribed"
        assert {k: recording.calls[0][k] for k in ("language", "beam_size", "vad_filter")} == \
            {"language": "fr", "beam_size": 2, "vad_filter": False}
        service.transcription.transcribe_media(media_id, force=True, language="")  # a per-run choice wins
        assert recording.calls[1]["language"] == ""


@pytest.mark.slow
def test_the_bundled_base_engine_chosen_in_settings_transcribes_the_next_job(service, tmp_path):
    tiny = service.transcription.transcriber()
    media_id = service.catalog.ingest_file(make_speech_wav(tmp_path / "speech.wav")).media_id
    service.settings.save({"transcriber": "base"}, expected_version=0, saved_by="admin")
    job = service.jobs.wait(service.transcription.submit([media_id]).job_id, 300)
    assert job.status == "succeeded", job.error
    transcript = service.transcripts.latest(media_id).transcript
    assert transcript.model_version.startswith("faster-whisper-1.2.1/base")
    assert transcript.language == "en" and word_error_rate(SPEECH_TEXT, transcript.text) <= 0.35, transcript.text
    assert service.transcription.transcriber() is service.transcription.transcriber("base") is not tiny
    assert service.transcription.transcriber("tiny.en") is tiny  # each engine stays loaded once
