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


def make_sparse_speech(folder: Path, minutes: float, every_s: int = 300, text: str = SPEECH_TEXT) -> Path:
    """minutes of 16 kHz mono FLAC that is silent but for `text`, spoken once at the start of every `every_s`
    seconds (sox): long media that transcribes quickly with VAD on."""
    import subprocess
    import wave

    block = folder / f"block-{every_s}s.flac"
    if not block.exists():
        speech = make_speech_wav(folder / "sentence.wav", text)
        with wave.open(str(speech)) as w:
            speech_s = w.getnframes() / w.getframerate()
        subprocess.run(["sox", str(speech), "-r", "16000", "-c", "1", str(block), "pad", "1",
                        f"{every_s - 1 - speech_s:.3f}"], check=True)
    blocks = max(1, round(minutes * 60 / every_s))
    out = folder / f"sparse-{blocks * every_s}s.flac"
    if not out.exists():
        subprocess.run(["sox", str(block), str(out), "repeat", str(blocks - 1)], check=True)
    return out
