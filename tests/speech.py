"""Test media with known words: speech from espeak-ng, and a video carrying that speech (PyAV).

The writers are the demo set's own (demo/make_demo.py), so tests and the demo share one implementation.
"""
from __future__ import annotations

from pathlib import Path

from demo.make_demo import make_video, speak

SPEECH_TEXT = "The quick brown fox jumps over the lazy dog. Machine learning transcribes the speech."
VIDEO_TEXT = "This short video shows a title card. The speech in it is transcribed, then a person checks the words."


def make_speech_wav(out: Path, text: str = SPEECH_TEXT) -> Path:
    speak(text, out)
    return out


def make_speech_video(out: Path, text: str = VIDEO_TEXT) -> Path:
    make_video(text, out)
    return out
