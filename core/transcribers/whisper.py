"""The faster-whisper transcriber: a CTranslate2 Whisper model on the CPU, loaded once and shared."""
from __future__ import annotations

import logging
import threading
from importlib.metadata import version
from pathlib import Path

from core.domain import Segment, Transcript, Word
from core.errors import LoupeError
from core.transcribers import Progress, TranscriberConfig

log = logging.getLogger(__name__)


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
        model = self.model()
        language = (language or None) if self.is_multilingual else "en"
        beam_size = self.config.beam_size if beam_size is None else beam_size
        vad_filter = self.config.vad_filter if vad_filter is None else vad_filter
        try:
            segments, info = model.transcribe(str(path), language=language, beam_size=beam_size,
                                              vad_filter=vad_filter, word_timestamps=True)
        except Exception as exc:  # PyAV's decode errors come in several types; all mean the same to a user
            raise LoupeError(f"The media could not be decoded for transcription "
                             f"({type(exc).__name__}: {exc}).") from None
        duration_s = round(float(info.duration), 3)
        out: list[Segment] = []
        for seg in segments:  # a generator: the decoding happens as it is consumed, so progress is real
            words = tuple(
                Word(w.word.strip(), round(float(w.start), 3), round(min(float(w.end), duration_s), 3),
                     min(1.0, max(0.0, float(w.probability))))
                for w in (seg.words or ()) if w.word.strip()
            )
            out.append(Segment(round(float(seg.start), 3), round(min(float(seg.end), duration_s), 3),
                               seg.text.strip(), words))
            if progress:
                progress(min(float(seg.end), duration_s))
        return Transcript(media_id="", segments=tuple(out), language=info.language or "", duration_s=duration_s,
                          model_version=self.model_version)
