"""The faster-whisper transcriber: a CTranslate2 Whisper model on the CPU, loaded once and shared."""
from __future__ import annotations

import itertools
import logging
import math
import threading
from importlib.metadata import version
from pathlib import Path

import numpy as np

from core.audio import SAMPLE_RATE, AudioWindow, audio_window, release_freed_memory
from core.domain import Segment, Transcript, Word
from core.errors import LoupeError
from core.transcribers import DetectedLanguage, Progress, TranscriberConfig

log = logging.getLogger(__name__)

# A file's language is decided from its first speech, as Whisper does for a whole file (30 s at a time): if the model
# is unsure of the first 30 s (top language under 50 %), the next 30 s are heard too, and the surer or majority wins.
LANGUAGE_SEGMENTS = 2
LANGUAGE_SCAN_S = 1800.0  # how far into a file to look for speech to decide its language from (windows without any)


class WhisperTranscriber:
    def __init__(self, folder: Path, config: TranscriberConfig, label: str):
        self.folder = folder
        self.config = config
        self.model_version = f"faster-whisper-{version('faster-whisper')}/{label}/{config.compute_type}"
        self._model = None
        self._lock = threading.Lock()

    def model(self):
        """The loaded model; the first caller loads it, concurrent callers wait for that load."""
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                log.info("loading Whisper model from %s", self.folder)
                try:
                    self._model = WhisperModel(str(self.folder), device="cpu", compute_type=self.config.compute_type,
                                               cpu_threads=self.config.cpu_threads)
                except (RuntimeError, ValueError, OSError) as exc:
                    raise LoupeError(f"The Whisper model in {self.folder} could not be loaded: {exc}") from None
            return self._model

    @property
    def is_multilingual(self) -> bool:
        return bool(self.model().model.is_multilingual)

    def transcribe(self, path: Path, *, language: str = "", media_format: str = "",
                   progress: Progress | None = None, beam_size: int | None = None,
                   vad_filter: bool | None = None) -> Transcript:
        """The transcript of the media at path, decoded and transcribed one window at a time (core/audio.py).

        Memory is bounded by the window (config.window_s), not the file's duration. Timestamps are offset by
        each window's start; progress is reported per segment and at the end of each window. A multilingual
        model detects the language in the first window with speech and keeps it for the rest.
        """
        return self.transcribe_windows(path, language=language, progress=progress, beam_size=beam_size,
                                       vad_filter=vad_filter)

    def transcribe_windows(self, path: Path, *, first: int = 0, through: int | None = None,
                           window_s: float | None = None, language: str = "", progress: Progress | None = None,
                           beam_size: int | None = None, vad_filter: bool | None = None) -> Transcript:
        """Windows `first` to `through` of the media (to its end when None), with whole-file times: the part of one
        chunk of a job (core/transcription.py). The windows are `audio_window`'s, so the parts of a file that
        different processes transcribe join without overlap or gap. duration_s is where the last window ends."""
        model = self.model()
        forced: str | None = (language or None) if self.is_multilingual else "en"  # None: the model decides
        beam_size = self.config.beam_size if beam_size is None else beam_size
        vad_filter = self.config.vad_filter if vad_filter is None else vad_filter
        window_s = window_s or self.config.window_s
        out: list[Segment] = []
        detected = forced or ""
        duration_s = 0.0
        for index in itertools.count(first):
            window, is_last = audio_window(path, index, window_s=window_s)
            duration_s = window.end_s
            if len(window.samples):
                found = self._transcribe_window(model, window, out, language=forced, beam_size=beam_size,
                                                vad_filter=vad_filter, progress=progress)
                if found and forced is None:
                    forced = detected = found
            del window
            release_freed_memory()
            if progress:
                progress(duration_s)
            if is_last or (through is not None and index >= through):
                break
        return Transcript(media_id="", segments=tuple(out), language=detected, duration_s=round(duration_s, 3),
                          model_version=self.model_version)

    def detect_language(self, path: Path, *, window_s: float | None = None,
                        scan_s: float = LANGUAGE_SCAN_S) -> DetectedLanguage:
        """The language of the media at path, decided once from its start, as Whisper decides it for a whole file:
        from the speech (Silero VAD, whatever the VAD setting: silence or music alone decides nothing) of the first
        window that has any, up to LANGUAGE_SEGMENTS x 30 s of it. One window is decoded at a time (bounded memory),
        at most scan_s into the file. An English-only model answers "en" without decoding anything."""
        model = self.model()
        if not self.is_multilingual:
            return DetectedLanguage("en", 1.0, 0)
        from faster_whisper.vad import collect_chunks, get_speech_timestamps

        window_s = window_s or self.config.window_s
        for index in range(max(1, math.ceil(scan_s / max(1.0, window_s)))):
            window, is_last = audio_window(path, index, window_s=window_s)
            speech = get_speech_timestamps(window.samples) if len(window.samples) else []
            if speech:
                audio = np.concatenate(collect_chunks(window.samples, speech)[0])
                del window
                audio = audio[:LANGUAGE_SEGMENTS * 30 * SAMPLE_RATE]
                try:
                    language, probability, _ = model.detect_language(audio=audio,
                                                                     language_detection_segments=LANGUAGE_SEGMENTS)
                except (RuntimeError, ValueError) as exc:
                    raise LoupeError(f"The language of the media could not be detected ({type(exc).__name__}: "
                                     f"{exc}).") from None
                return DetectedLanguage(language, round(float(probability), 3), index)
            del window
            release_freed_memory()
            if is_last:
                break
        return DetectedLanguage("", 0.0, -1)

    @staticmethod
    def _transcribe_window(model, window: AudioWindow, out: list[Segment], *, language: str | None, beam_size: int,
                           vad_filter: bool, progress: Progress | None) -> str:
        """Add the window's segments to out; the language the model heard ("" if no speech)."""
        try:
            segments, info = model.transcribe(window.samples, language=language, beam_size=beam_size,
                                              vad_filter=vad_filter, word_timestamps=True)
        except (RuntimeError, ValueError) as exc:
            raise LoupeError(f"The media could not be transcribed ({type(exc).__name__}: {exc}).") from None
        found = False
        for seg in segments:  # a generator: the model works as it is consumed, so progress is real
            found = True
            out.append(_offset_segment(seg, window.start_s, window.end_s))
            if progress:
                progress(min(window.start_s + float(seg.end), window.end_s))
        return (info.language or "") if found else ""


def _offset_segment(seg, offset_s: float, end_s: float) -> Segment:
    """A faster-whisper segment of one window as a Segment of the whole file (times offset, clipped to the window)."""
    words = tuple(
        Word(w.word.strip(), round(offset_s + float(w.start), 3), round(min(offset_s + float(w.end), end_s), 3),
             min(1.0, max(0.0, float(w.probability))))
        for w in (seg.words or ()) if w.word.strip()
    )
    return Segment(round(offset_s + float(seg.start), 3), round(min(offset_s + float(seg.end), end_s), 3),
                   seg.text.strip(), words)
