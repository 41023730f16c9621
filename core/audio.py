"""Audio for speech models: any audio or video decoded to 16 kHz mono, in windows of bounded length.

Decoding a whole file first (as faster-whisper does when given a path) costs memory in proportion to its
duration: an 8-hour recording is 1.8 GB of float32 samples before the model even starts. Here PyAV decodes
the stream as it goes and hands out one window at a time, so memory is bounded by the window, not the file.
Each window ends at the quietest moment near its nominal end, so a cut rarely falls inside a word.

`audio_window` decodes one window on its own (by seeking), so the windows of one file can be transcribed by different
processes: window k starts at the quietest moment in the `cut_search_s` before k * window_s, and that moment is found
in samples decoded from one fixed seek point, so the process with window k - 1 and the one with window k agree on it
to the sample, and the windows neither overlap nor leave a gap.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import logging
import math
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
SEEK_MARGIN_S = 1.0  # decoding starts this far before what is needed: the first frames after a seek can be off (MP3)


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


def window_count(duration_s: float, window_s: float = WINDOW_S) -> int:
    """How many windows of `audio_window` cover media of this duration (at least one)."""
    return max(1, math.ceil(duration_s / max(1.0, window_s) - 1e-9))


def audio_window(path: Path, index: int, *, window_s: float = WINDOW_S,
                 cut_search_s: float = CUT_SEARCH_S) -> tuple[AudioWindow, bool]:
    """(window `index` of the file, whether it is the file's last), decoded on its own.

    It runs from its own cut to the next one: each cut is the quietest moment in the cut_search_s before a multiple
    of window_s, found in samples decoded from a fixed seek point, so any process asking gets the same cut. A window
    past the end of the file is empty (and the last). Raises LoupeError as `audio_windows` does.
    """
    window_n, search_n = _sizes(window_s, cut_search_s)
    start_n = _cut_n(path, index, window_n, search_n)
    next_n = (index + 1) * window_n
    anchor_n = 0 if index == 0 else index * window_n - search_n
    samples = _decode_span(path, anchor_n, next_n + _margin_n())
    is_last = len(samples) < next_n - anchor_n
    end_n = anchor_n + len(samples) if is_last else _cut_n(path, index + 1, window_n, search_n)
    window = _as_float(samples[max(0, start_n - anchor_n):max(0, end_n - anchor_n)])
    del samples
    return AudioWindow(start_n / SAMPLE_RATE, window), is_last


def _sizes(window_s: float, cut_search_s: float) -> tuple[int, int]:
    window_n = max(SAMPLE_RATE, int(window_s * SAMPLE_RATE))
    return window_n, min(window_n // 2, int(cut_search_s * SAMPLE_RATE))


def _margin_n() -> int:
    return int(SEEK_MARGIN_S * SAMPLE_RATE)


def _cut_n(path: Path, index: int, window_n: int, search_n: int) -> int:
    """Where window `index` starts, in samples: the quietest moment in the search_n samples before index * window_n,
    decoded from the same seek point whoever asks (the end of the file if it ends before)."""
    if index <= 0:
        return 0
    nominal_n = index * window_n
    region = _decode_span(path, nominal_n - search_n, nominal_n + _margin_n())[:search_n]
    if len(region) < search_n:
        return nominal_n - search_n + len(region)
    return _quiet_cut(region, search_n, search_n) + nominal_n - search_n


def _decode_span(path: Path, from_n: int, to_n: int) -> np.ndarray:
    """The int16 samples [from_n, to_n) of the first audio stream (fewer where the file ends first), decoded from a
    seek point a margin before from_n: the same call always gives the same samples. Falls back to decoding from the
    start where the container can't seek or its frames carry no times."""
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise LoupeError("The media has no audio stream, so there is no speech to transcribe.")
            first_n, frames = _frames_from(container, from_n - _margin_n())
            if first_n is None or first_n > from_n:
                return _decode_span_from_start(path, from_n, to_n)
            return _collect(_resampled(frames), first_n, from_n, to_n)
    except av.error.FFmpegError as exc:
        raise LoupeError(f"The media could not be decoded for transcription ({type(exc).__name__}: {exc}).") from None


def _decode_span_from_start(path: Path, from_n: int, to_n: int) -> np.ndarray:
    import av

    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        return _collect(_resampled(_audio_frames(container)), 0, from_n, to_n)


def _frames_from(container, seek_n: int) -> tuple[int | None, Iterator]:
    """(the sample index where the decoded frames start, the frames): from the start of the stream when seek_n <= 0,
    else from a seek to at or before seek_n; None where that place can't be known."""
    import av

    stream = container.streams.audio[0]
    if seek_n <= 0:
        return 0, _audio_frames(container)
    try:
        origin_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        container.seek(int((seek_n / SAMPLE_RATE + origin_s) / stream.time_base), stream=stream, backward=True)
    except (av.error.FFmpegError, ValueError, OverflowError):
        return None, iter(())
    frames = _audio_frames(container)
    first = next(frames, None)
    if first is None:  # seeking past the end: nothing there, as when decoding from the start
        return seek_n, iter(())
    if first.time is None:
        return None, iter(())
    return max(0, round((first.time - origin_s) * SAMPLE_RATE)), itertools.chain([first], frames)


def _collect(blocks: Iterator[np.ndarray], first_n: int, from_n: int, to_n: int) -> np.ndarray:
    """The samples [from_n, to_n) of blocks that start at sample first_n."""
    kept: list[np.ndarray] = []
    at_n = first_n
    for block in blocks:
        lo, hi = max(from_n - at_n, 0), min(to_n - at_n, len(block))
        if hi > lo:
            kept.append(block[lo:hi].copy())
        at_n += len(block)
        if at_n >= to_n:
            break
    return np.concatenate(kept) if kept else np.zeros(0, dtype=np.int16)


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
    return _resampled(_audio_frames(container))


def _audio_frames(container) -> Iterator:
    """The decoded frames of the first audio stream, from where the container stands; invalid ones are skipped."""
    import av

    frames = container.decode(audio=0)
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def _resampled(frames: Iterator) -> Iterator[np.ndarray]:
    """Frames as int16 mono 16 kHz blocks."""
    import av

    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    fifo = av.audio.fifo.AudioFifo()
    for frame in frames:
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
