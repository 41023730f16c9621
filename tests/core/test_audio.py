"""Audio decoded in windows: together they are exactly the whole file, and each cut falls in a quiet place."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from core.audio import SAMPLE_RATE, audio_window, audio_windows, window_count
from core.errors import LoupeError
from tests.media_factory import make_image, make_video


def _write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())
    return path


def _tone(seconds: float, rate: int = SAMPLE_RATE, freq_hz: float = 300.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 8000 * np.sin(2 * np.pi * freq_hz * t)


def test_windows_together_are_the_whole_file_sample_for_sample(tmp_path):
    from faster_whisper.audio import decode_audio

    rng = np.random.default_rng(0)
    path = _write_wav(tmp_path / "noise.wav", rng.integers(-9000, 9000, 44_100 * 37), rate=44_100)
    windows = list(audio_windows(path, window_s=10, cut_search_s=2))
    assert len(windows) >= 4
    assert [w.start_s for w in windows] == pytest.approx([0.0] + [w.end_s for w in windows[:-1]])
    assert all(w.duration_s <= 10 for w in windows)
    assert np.array_equal(np.concatenate([w.samples for w in windows]), decode_audio(str(path)))


def test_a_window_ends_in_the_quiet_gap_near_its_end(tmp_path):
    speech_like = np.concatenate([_tone(8.6), np.zeros(int(0.4 * SAMPLE_RATE)), _tone(6.0)])
    first = next(audio_windows(_write_wav(tmp_path / "gap.wav", speech_like), window_s=10, cut_search_s=3))
    assert 8.6 <= first.end_s <= 9.0


def test_a_video_is_read_for_its_audio_and_a_picture_is_refused(tmp_path):
    windows = list(audio_windows(make_video(tmp_path / "v.mp4"), window_s=10))
    assert len(windows) == 1 and windows[0].duration_s == pytest.approx(1.0, abs=0.1)
    with pytest.raises(LoupeError):
        list(audio_windows(make_image(tmp_path / "p.png", fmt="PNG")))


@pytest.mark.parametrize("rate", [SAMPLE_RATE, 44_100])
def test_windows_decoded_one_by_one_join_into_the_whole_file_sample_for_sample(tmp_path, rate):
    from faster_whisper.audio import decode_audio

    rng = np.random.default_rng(1)
    path = _write_wav(tmp_path / "noise.wav", rng.integers(-9000, 9000, rate * 37), rate=rate)
    windows, is_last, index = [], False, 0
    while not is_last:  # each window decoded on its own, as a worker decodes the window it was given
        window, is_last = audio_window(path, index, window_s=10, cut_search_s=2)
        windows.append(window)
        index += 1
    assert len(windows) == window_count(37.0, 10) == 4
    assert [w.start_s for w in windows] == pytest.approx([0.0] + [w.end_s for w in windows[:-1]])  # no gap or overlap
    assert np.array_equal(np.concatenate([w.samples for w in windows]), decode_audio(str(path)))


def test_a_window_on_its_own_starts_and_ends_in_the_quiet_gaps_near_its_bounds(tmp_path):
    gap = np.zeros(int(0.4 * SAMPLE_RATE))
    speech_like = np.concatenate([_tone(8.6), gap, _tone(9.0), gap, _tone(6.0)])  # gaps at 8.6-9.0 s, 18.0-18.4 s
    path = _write_wav(tmp_path / "gaps.wav", speech_like)
    second, is_last = audio_window(path, 1, window_s=10, cut_search_s=3)
    assert 8.6 <= second.start_s <= 9.0 and 18.0 <= second.end_s <= 18.4 and not is_last
    past_the_end, is_last = audio_window(path, 5, window_s=10, cut_search_s=3)
    assert len(past_the_end.samples) == 0 and is_last
