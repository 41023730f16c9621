"""Audio for speech models: any audio or video decoded to 16 kHz mono, in windows of bounded length.

Decoding a whole file first (as faster-whisper does when given a path) costs memory in proportion to its
duration: an 8-hour recording is 1.8 GB of float32 samples before the model even starts. Here PyAV decodes
the stream as it goes and hands out one window at a time, so memory is bounded by the window, not the file.
Each window ends at the quietest moment near its nominal end, so a cut rarely falls inside a word.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import LoupeError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
WINDOW_S = 600.0  # 10 minutes: about 40 MB of float32 samples, whatever the file's duration
CUT_SEARCH_S = 10.0  # look this far back from a window's nominal end for a quiet place to cut
_QUIET_FRAME = SAMPLE_RATE // 10  # 100 ms frames when looking for the quietest place
_DECODE_GROUP = 500_000  # samples resampled at once (PyAV is slow frame by frame)


@dataclass(frozen=True)
class AudioWindow:
    start_s: float  # where the window starts in the whole file
    samples: np.ndarray  # float32 in [-1, 1], 16 kHz mono

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def audio_windows(path: Path, *, window_s: float = WINDOW_S,
                  cut_search_s: float = CUT_SEARCH_S) -> Iterator[AudioWindow]:
    """The first audio stream of the file at path as consecutive windows, in order, together covering it all.

    Raises LoupeError if the file has no audio or can't be decoded at all. A file with audio but no samples yields
    one empty window, so a caller always gets at least one.
    """
    import av

    window_n = max(SAMPLE_RATE, int(window_s * SAMPLE_RATE))
    search_n = min(window_n // 2, int(cut_search_s * SAMPLE_RATE))
    pending: list[np.ndarray] = []  # int16 blocks not yet handed out
    pending_n = 0
    start_n = 0
    yielded = False
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise LoupeError("The media has no audio stream, so there is no speech to transcribe.")
            for block in _decoded_blocks(container):
                pending.append(block)
                pending_n += len(block)
                if pending_n < window_n + search_n:
                    continue
                buffer = np.concatenate(pending)
                pending.clear()
                while len(buffer) >= window_n + search_n:
                    window, buffer = _split(buffer, window_n, search_n)
                    yield AudioWindow(start_n / SAMPLE_RATE, window)
                    yielded = True
                    start_n += len(window)
                pending, pending_n = [buffer], len(buffer)
    except av.error.FFmpegError as exc:
        raise LoupeError(f"The media could not be decoded for transcription ({type(exc).__name__}: {exc}).") from None
    rest = np.concatenate(pending) if pending else np.zeros(0, dtype=np.int16)
    pending.clear()
    while len(rest) > window_n:
        window, rest = _split(rest, window_n, search_n)
        yield AudioWindow(start_n / SAMPLE_RATE, window)
        start_n += len(window)
    if len(rest) or not yielded:
        yield AudioWindow(start_n / SAMPLE_RATE, _as_float(rest))


def _split(buffer: np.ndarray, window_n: int, search_n: int) -> tuple[np.ndarray, np.ndarray]:
    """(the next window as float32, a copy of the int16 rest): while the caller works on the window, only it and
    the short rest are held, not the buffer they came from."""
    cut = _quiet_cut(buffer, window_n, search_n)
    return _as_float(buffer[:cut]), buffer[cut:].copy()


def release_freed_memory() -> None:
    """Hand memory freed by the last window back to the OS (glibc's malloc_trim; a no-op elsewhere).

    The VAD and the model free their window-sized buffers, but glibc keeps freed heap pages, and the next window's
    buffers rarely fit the holes: without a trim the process grows by tens of MB a window, so an 8-hour file
    would cost far more than a 10-minute one.
    """
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name) if name else False
    trim = getattr(_libc, "malloc_trim", None) if _libc else None
    if trim is not None:
        trim(0)


_libc: ctypes.CDLL | bool | None = None


def _decoded_blocks(container) -> Iterator[np.ndarray]:
    """int16 mono 16 kHz blocks of the first audio stream; invalid frames are skipped, as faster-whisper does."""
    import av

    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    fifo = av.audio.fifo.AudioFifo()
    frames = container.decode(audio=0)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except av.error.InvalidDataError:
            continue
        frame.pts = None  # a gap in timestamps is no reason to stop
        fifo.write(frame)
        if fifo.samples >= _DECODE_GROUP:
            for out in resampler.resample(fifo.read()):
                yield out.to_ndarray().reshape(-1)
    if fifo.samples:
        for out in resampler.resample(fifo.read()):
            yield out.to_ndarray().reshape(-1)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1)


def _as_float(samples: np.ndarray) -> np.ndarray:
    out = samples.astype(np.float32)
    out *= 1 / 32768.0  # in place: one window-sized array, not two
    return out


def _quiet_cut(buffer: np.ndarray, window_n: int, search_n: int) -> int:
    """Where to end a window: the middle of the quietest 100 ms in the search_n samples before window_n."""
    region = buffer[window_n - search_n:window_n].astype(np.float32)
    frames = len(region) // _QUIET_FRAME
    if frames < 1:
        return window_n
    energy = np.square(region[:frames * _QUIET_FRAME].reshape(frames, _QUIET_FRAME)).mean(axis=1)
    quietest = int(np.argmin(energy))
    return window_n - search_n + quietest * _QUIET_FRAME + _QUIET_FRAME // 2
