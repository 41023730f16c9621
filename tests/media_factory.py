"""Real media files made in tests: images with Pillow, audio with the stdlib wave module, video with PyAV."""
from __future__ import annotations

import math
import struct
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image


def make_image(path: Path, size: tuple[int, int] = (64, 48), fmt: str | None = None, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path, format=fmt)
    return path


def make_wav(path: Path, seconds: float = 1.0, rate: int = 16000, freq_hz: float = 440.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq_hz * i / rate)))
                          for i in range(int(seconds * rate)))
        w.writeframes(frames)
    return path


def make_video(path: Path, seconds: float = 1.0, codec: str = "libx264", audio_codec: str | None = "aac",
               fps: int = 10) -> Path:
    """A small test-pattern video (optionally with a tone), in the container the suffix names."""
    import av

    with av.open(str(path), "w") as dst:
        vs = dst.add_stream(codec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        a_s = dst.add_stream(audio_codec, rate=16000) if audio_codec else None
        for i in range(int(seconds * fps)):
            img = np.full((48, 64, 3), (i * 20) % 255, dtype=np.uint8)
            for packet in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                dst.mux(packet)
        for packet in vs.encode():
            dst.mux(packet)
        if a_s is not None:
            samples = (8000 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * 16000)) / 16000)).astype(np.int16)
            fmt = "fltp" if audio_codec in ("aac", "libopus", "libvorbis") else "s16"
            chunk = a_s.codec_context.frame_size or 1024
            for start in range(0, len(samples) - chunk + 1, chunk):
                block = samples[start:start + chunk].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = 16000, start, Fraction(1, 16000)
                for packet in a_s.encode(frame if fmt == "s16" else frame):
                    dst.mux(packet)
            for packet in a_s.encode():
                dst.mux(packet)
    return path


AUDIO_CODECS = {".mp3": ("libmp3lame", "mp3", 44100), ".flac": ("flac", "flac", 16000),
                ".ogg": ("libopus", "ogg", 48000), ".m4a": ("aac", "mp4", 16000)}


def make_audio(path: Path, seconds: float = 1.0) -> Path:
    """A tone encoded by PyAV in the format the suffix names (.mp3, .flac, .ogg, .m4a); .wav uses make_wav."""
    import av

    codec, container_format, rate = AUDIO_CODECS[path.suffix]
    samples = (8000 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate)).astype(np.int16)
    with av.open(str(path), "w", format=container_format) as dst:
        stream = dst.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        for packet in stream.encode(frame):
            dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    return path
