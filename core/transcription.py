"""Transcription as a background job: run a transcriber over media items and store each result as version 1.

The transcriber for each engine is built once per process and shared by all jobs (its model loads on first
use, under a lock). A job is split into chunks (core/cluster.py): one per item, and for Whisper one per window of
a file longer than a window (LOUPE_TRANSCRIBE_WINDOW_S), so one long file spreads over the workers. Each window's
words are kept in a record of their own ("transcript_window", key "{job}/{media_id}/{window}"); whoever stores a
file's last window (any worker, in any order) assembles the transcript, and a run saves it once however many
assemble it (`Transcripts.save_model_transcript_once`). With a multilingual model and no language set, a file's
language is decided once per run, from its start, by the first window(s) to run, and kept in a record
("transcript_language", key "{job}/{media_id}") that every window, and a window run again after a restart, uses.
Progress is the media time transcribed against the items' total duration, and a cancel stops the work between
segments.
"""
from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.access import OPEN, Access, Actor
from core.audio import window_count
from core.catalog import Catalog
from core.cluster import (
    Chunk,
    DaskCluster,
    Executor,
    chunk_report,
    is_cancel_requested,
    outcomes_of,
    report_chunk_progress,
    run_chunks,
)
from core.config import Config
from core.domain import Job, MediaItem, Segment, Transcript, as_dict, from_dict
from core.errors import AlreadyExists, LoupeError
from core.jobs import JobCancelled, JobContext, JobRunner, listed_items, work_kind
from core.models import ModelCache
from core.project_settings import ProjectSettings
from core.transcribers import AMAZON, Progress, Transcriber, TranscriberConfig, WindowedTranscriber, load_transcriber
from core.transcripts import MODEL_NOTE, Transcripts, TranscriptVersion

log = logging.getLogger(__name__)

JOB_KIND = "transcribe"
WINDOW_KIND = work_kind("transcript_window")  # parent the job: removed with its other work records once it is final
LANGUAGE_KIND = work_kind("transcript_language")  # the language decided once for a file's windows
CANCEL_CHECK_S = 2.0  # a chunk on a worker reads the job's cancel record at most this often
LISTS_KEPT = 16  # running jobs' item lists `jobs_for` keeps in memory


@dataclass(frozen=True)
class TranscribeOutcome:
    media_id: str
    file: str
    status: str  # "transcribed" | "existing" | "failed"
    version: TranscriptVersion | None = None
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"media_id": self.media_id, "file": self.file, "status": self.status,
                "version": self.version.number if self.version else None, "reason": self.reason}


class Transcription:
    access: Access = OPEN  # the service sets its own
    work: Executor | None = None  # where transcription jobs' chunks run (core/cluster.py); the service sets it
    def __init__(self, config: Config, catalog: Catalog, transcripts: Transcripts, jobs: JobRunner,
                 settings: ProjectSettings, *, models: ModelCache | None = None):
        self.transcriber_config = TranscriberConfig.from_config(config)
        self.settings = settings  # engine, language, beam size and VAD, read when each item is transcribed
        self.catalog = catalog
        self.transcripts = transcripts
        self.jobs = jobs
        self.models = models or ModelCache()
        self._listed: dict[str, frozenset[str]] = {}  # job id -> its list, for jobs whose list is in item pages

    def transcriber(self, model: str = "") -> Transcriber:
        """The process-wide transcriber for an engine (the one in Settings by default); one per engine."""
        spec = model or self.settings.effective().transcriber
        return self.models.get("transcriber", spec,
                               lambda: load_transcriber(replace(self.transcriber_config, model=spec)))

    def transcribe_media(self, media_id: str, *, force: bool = False, model: str = "", language: str | None = None,
                         progress: Progress | None = None, run_since: str = "") -> TranscribeOutcome:
        """Transcribe one item and store the result. Bad input becomes a "failed" outcome, never an exception.

        run_since: when the job started; a model's version saved since then is this run's own (a chunk run again
        after its worker died), so even with `force` it is kept rather than saved twice."""
        try:
            item = self.catalog.get(media_id)
        except LoupeError as exc:
            return TranscribeOutcome(media_id, "", "failed", reason=str(exc))
        if item.kind not in ("audio", "video"):
            return TranscribeOutcome(media_id, item.file_name, "failed",
                                     reason=f"{item.file_name} is an {item.kind}; "
                                            "only audio and video can be transcribed.")
        existing = self.transcripts.latest(media_id)
        if existing and (not force or (run_since and existing.note == MODEL_NOTE and existing.saved_at >= run_since)):
            return TranscribeOutcome(media_id, item.file_name, "existing", existing)
        chosen = self.settings.effective()
        try:
            transcriber = self.transcriber(model or chosen.transcriber)
            transcript = transcriber.transcribe(self.catalog.media_path(media_id), media_format=item.format,
                                                language=chosen.transcriber_language if language is None else language,
                                                progress=progress, beam_size=chosen.transcriber_beam_size,
                                                vad_filter=chosen.transcriber_vad)
        except LoupeError as exc:
            log.warning("transcribing %s failed: %s", item.file_name, exc)
            return TranscribeOutcome(media_id, item.file_name, "failed", reason=str(exc))
        if transcript.duration_s is None and item.duration_s:
            transcript = replace(transcript, duration_s=item.duration_s)
        version = self.transcripts.save_model_transcript(media_id, transcript)
        if item.status in ("new", "labeled"):
            self.catalog.set_status(media_id, "transcribed")
        log.info("transcribed %s: %d words, v%d", item.file_name, len(transcript.words), version.number)
        return TranscribeOutcome(media_id, item.file_name, "transcribed", version)

    def submit(self, media_ids: list[str], *, created_by: str = "", force: bool = False, model: str = "",
               language: str | None = None, actor: Actor | None = None) -> Job:
        """Transcribe these items in a background job. Admins only."""
        current = self.access.require(actor, "media")
        created_by = created_by if current.is_local else current.id
        return self.jobs.submit(JOB_KIND, {"force": force, "model": model, "language": language},
                                created_by=created_by, items=list(media_ids))  # a long list goes to item pages

    def jobs_for(self, media_id: str, limit: int = 50) -> list[Job]:
        """Recent transcription jobs that include this item, newest first (any session's, any process's)."""
        return [j for j in self.jobs.recent(limit, kind=JOB_KIND) if self._includes(j, media_id)]

    def _includes(self, job: Job, media_id: str) -> bool:
        """Whether a job's list names this item: its params (a short list), its outcomes once it is final (its item
        pages are gone then), or its item pages while it runs (read once per process: a job's list never changes)."""
        if "media_ids" in job.params:
            return media_id in job.params["media_ids"]
        if job.is_finished:
            return any(o.get("media_id") == media_id for o in job.result.get("outcomes", []))
        listed = self._listed.get(job.job_id)
        if listed is None:
            try:
                listed = frozenset(listed_items(self.jobs.records, job.job_id, job.params) or ())
            except LoupeError:
                return False
            if len(self._listed) >= LISTS_KEPT:
                self._listed.clear()  # finished jobs' lists are never asked for again
            self._listed[job.job_id] = listed
        return media_id in listed

    def run_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler: the items in chunks (one per item, or per window of a long file), each transcribed where it
        lands (a Dask worker, or this process with LOUPE_DASK=off); chunks done before a restart are not run again.
        Progress in seconds of media, against the items' total duration."""
        ids = listed_items(self.jobs.records, ctx.job.job_id, params) or []
        outcomes = self.transcribe_in_chunks(ctx, ids, force=bool(params.get("force")),
                                             model=params.get("model") or "", language=params.get("language"))
        return {"outcomes": outcomes, "counts": dict(Counter(o["status"] for o in outcomes)),
                "chunks": chunk_report(self.jobs.records, ctx.job.job_id)}

    @property
    def runs_on_cluster(self) -> bool:
        return isinstance(self.work, DaskCluster)

    def transcribe_in_chunks(self, ctx: JobContext, ids: list[str], *, force: bool = False, model: str = "",
                             language: str | None = None, prefix: str = "") -> list[dict[str, Any]]:
        """Transcribe these items as chunks of a job (index prefix: several steps of one job), each where it lands;
        the outcomes as dicts (TranscribeOutcome.as_json), one per item, in order."""
        payload = {"force": force, "model": model, "language": language, "run_since": ctx.job.created_at}
        window_s = float(self.transcriber_config.window_s)
        chunks: list[Chunk] = []
        windows: dict[str, int] = {}  # media_id -> its windows, for the items split into windows
        for n, media_id in enumerate(ids):
            duration_s = _duration_s(self.catalog, media_id)
            count = self._windows_of(media_id, duration_s, window_s, force=force, model=model)
            if count == 1:
                chunks.append(Chunk(f"{prefix}{n:05d}", {**payload, "ids": [media_id]}, max(1.0, duration_s)))
                continue
            windows[media_id] = count
            for k in range(count):
                weight = window_s if k < count - 1 else max(1.0, duration_s - window_s * (count - 1))
                chunks.append(Chunk(f"{prefix}{n:05d}w{k:05d}", {**payload, "ids": [media_id], "window": k,
                                                                 "windows": count, "window_s": window_s}, weight))
        try:
            summaries = run_chunks(ctx, self.work, self.jobs.records, JOB_KIND, chunks, unit="s transcribed")
        except BaseException:  # cancelled or failed for good: no run will assemble these windows
            for media_id, count in windows.items():
                self._drop_windows(ctx.job.job_id, media_id, count)
            raise
        parts: dict[str, list[dict[str, Any]]] = {}
        for chunk, summary in zip(chunks, summaries):
            parts.setdefault(chunk.payload["ids"][0], []).append(summary)
        outcomes = []
        for media_id in ids:
            if media_id in windows:
                outcomes.append(self._windowed_outcome(ctx.job.job_id, media_id, windows[media_id],
                                                       parts.get(media_id, []), run_since=ctx.job.created_at))
            else:
                outcomes.extend(o for o in outcomes_of(parts.get(media_id, [])) if o["media_id"] == media_id)
        total_s = max(1, math.ceil(sum(c.weight for c in chunks)))
        ctx.progress(total_s, total_s, f"{len(outcomes)} item(s) done")
        return outcomes

    def _windows_of(self, media_id: str, duration_s: float, window_s: float, *, force: bool, model: str) -> int:
        """How many chunks an item's windows make: 1 for a short file, an engine that takes whole files (Amazon
        Transcribe), or an item whose transcript is kept (no force)."""
        count = window_count(duration_s, window_s)
        if count == 1 or (model or self.settings.effective().transcriber).strip() == AMAZON:
            return 1
        if not force and self.transcripts.latest_number(media_id):
            return 1
        return count

    def transcribe_chunk(self, job_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One chunk of a transcription job, where it runs; stops (without saving) if the job is cancelled."""
        progress = self._chunk_progress(job_id, payload)
        if "window" in payload:
            return self._transcribe_window(job_id, payload, progress)
        outcomes = [self.transcribe_media(media_id, force=payload.get("force", False), model=payload.get("model", ""),
                                          language=payload.get("language"), progress=progress,
                                          run_since=payload.get("run_since", "")).as_json()
                    for media_id in payload["ids"]]
        return {"outcomes": outcomes}

    def _chunk_progress(self, job_id: str, payload: dict[str, Any]) -> Progress:
        records = self.jobs.records
        checked = [time.monotonic()]
        since_s = float(payload.get("window", 0)) * float(payload.get("window_s", 0.0))

        def progress(done_s: float) -> None:
            report_chunk_progress(done_s - since_s)  # in this process (LOUPE_DASK=off): moves the job, may cancel
            if time.monotonic() - checked[0] >= CANCEL_CHECK_S:
                checked[0] = time.monotonic()
                if is_cancel_requested(records, job_id):
                    raise JobCancelled()  # stops the transcriber's segment loop
        return progress

    def _transcribe_window(self, job_id: str, payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
        """One window of a long file (the last chunk of a file goes on to its end): its words kept in a record of
        their own, then the file assembled if every window is in. A window run again (its worker died) finds its
        record, or the run's transcript, and does no work twice."""
        media_id, index, count = payload["ids"][0], int(payload["window"]), int(payload["windows"])
        run_since = payload.get("run_since", "")

        def summary(status: str, reason: str = "", language: str = "") -> dict[str, Any]:
            return {"outcomes": [], "window": {"media_id": media_id, "index": index, "status": status,
                                               "reason": reason, "language": language}}

        key = window_key(job_id, media_id, index)
        language = ""
        if self.records.get(WINDOW_KIND, key) is None and self._run_version(media_id, run_since) is None:
            try:
                item = self.catalog.get(media_id)
                chosen = self.settings.effective()
                transcriber = self.transcriber(payload.get("model") or chosen.transcriber)
                if not isinstance(transcriber, WindowedTranscriber):
                    raise LoupeError(f"{transcriber.model_version} takes whole files, not windows; transcribe the "
                                     "file again to run it whole.")
                path, window_s = self.catalog.media_path(media_id), float(payload["window_s"])
                asked = payload.get("language")
                language = chosen.transcriber_language if asked is None else str(asked)
                if not language:
                    language = self._file_language(job_id, media_id, index, transcriber, path, window_s)
                part = transcriber.transcribe_windows(
                    path, first=index, through=None if index == count - 1 else index, window_s=window_s,
                    progress=progress, beam_size=chosen.transcriber_beam_size, vad_filter=chosen.transcriber_vad,
                    language=language)
            except LoupeError as exc:
                log.warning("transcribing window %d of %s failed: %s", index + 1, media_id[:12], exc)
                return summary("failed", str(exc))
            language = part.language
            try:
                self.records.create(WINDOW_KIND, key, as_dict(part), parent=job_id)
            except AlreadyExists:  # this window ran twice (a retry after its worker died): the same words
                pass
            log.info("transcribed window %d of %d of %s: %d words", index + 1, count, item.file_name,
                     len(part.words))
        self.assemble(job_id, media_id, count, run_since=run_since)
        return summary("transcribed", language=language)

    def _file_language(self, job_id: str, media_id: str, index: int, transcriber: WindowedTranscriber, path: Path,
                       window_s: float) -> str:
        """The language every window of a file is transcribed in when none is set and the model is multilingual.

        It is decided once per run, from the start of the file (as Whisper decides it for a whole file), by the
        first window that needs it, on whatever worker runs that window, and kept in a record ("transcript_language",
        key "{job}/{media_id}"): every other window, and a window run again after a restart, reads it and detects
        nothing. Windows that start together may each detect (at the same time, so it costs about one detection in
        wall time); the first to store its answer wins, and they all use that one. "" for an English-only model
        (no extra step: it transcribes in English) and for a file with no speech in its first LANGUAGE_SCAN_S (each
        window then detects its own, as before)."""
        if not transcriber.is_multilingual:
            return ""
        key = language_key(job_id, media_id)
        stored = self.records.get(LANGUAGE_KIND, key)
        if stored is not None:
            return str(stored.body.get("language", ""))
        detected = transcriber.detect_language(path, window_s=window_s)
        body = {"language": detected.language, "probability": detected.probability, "from_window": detected.window,
                "decided_by_window": index}
        try:
            self.records.create(LANGUAGE_KIND, key, body, parent=job_id)
        except AlreadyExists:  # another window decided it first: use that decision, so every window agrees
            stored = self.records.get(LANGUAGE_KIND, key)
            if stored is not None:
                return str(stored.body.get("language", ""))
        log.info("the language of %s is %r (p=%.2f, from the speech in window %d), for all its windows",
                 media_id[:12], detected.language, detected.probability, detected.window + 1)
        return detected.language

    def assemble(self, job_id: str, media_id: str, windows: int, *, run_since: str) -> TranscriptVersion | None:
        """The run's transcript of a file split into windows: saved once every window is in (None until then),
        by whoever gets here first; the same version for every later caller."""
        mine = self._run_version(media_id, run_since)
        if mine is not None:
            return mine
        keys = [window_key(job_id, media_id, k) for k in range(windows)]
        found = self.records.get_many(WINDOW_KIND, keys, consistent=True)
        if len(found) < windows:
            return None
        parts = [from_dict(Transcript, found[k].body) for k in keys]
        segments: list[Segment] = [s for p in parts for s in p.segments]
        duration_s = max((p.duration_s or 0.0) for p in parts)
        item = self.catalog.get(media_id)
        decided = self.records.get(LANGUAGE_KIND, language_key(job_id, media_id))
        language = str(decided.body.get("language", "")) if decided is not None else ""
        transcript = Transcript(media_id, tuple(segments),
                                language or next((p.language for p in parts if p.language), ""),
                                duration_s or item.duration_s, parts[0].model_version)
        version = self.transcripts.save_model_transcript_once(media_id, transcript, since=run_since)
        if item.status in ("new", "labeled"):
            self.catalog.set_status(media_id, "transcribed")
        self._drop_windows(job_id, media_id, windows)  # the words and language live on in the version; a window
        # run again finds the version first
        log.info("assembled %s from %d windows: %d words, v%d", item.file_name, windows, len(transcript.words),
                 version.number)
        return version

    def _windowed_outcome(self, job_id: str, media_id: str, windows: int, parts: list[dict[str, Any]], *,
                          run_since: str) -> dict[str, Any]:
        """An item split into windows, once all its chunks are done: failed if a window failed (its reason, with
        where in the file), else transcribed, assembled here if no worker did (one died on the way), with the
        language each window was transcribed in ("window_languages"; "" for one that found its words stored)."""
        file_name = _file_name(self.catalog, media_id)
        for n, part in enumerate(parts):
            failed = part.get("window", {}) if part.get("window", {}).get("status") == "failed" else next(
                (o for o in part.get("outcomes", []) if o.get("status") == "failed"), None)
            if failed:
                self._drop_windows(job_id, media_id, windows)
                return TranscribeOutcome(media_id, file_name, "failed",
                                         reason=f"Window {n + 1} of {windows}: {failed.get('reason', '')}").as_json()
        try:
            version = self.assemble(job_id, media_id, windows, run_since=run_since)
        except LoupeError as exc:
            return TranscribeOutcome(media_id, file_name, "failed", reason=str(exc)).as_json()
        if version is None:
            return TranscribeOutcome(media_id, file_name, "failed",
                                     reason="Some windows of the file were not transcribed; run it again.").as_json()
        return {**TranscribeOutcome(media_id, file_name, "transcribed", version).as_json(),
                "window_languages": [part.get("window", {}).get("language", "") for part in parts]}

    def _drop_windows(self, job_id: str, media_id: str, windows: int) -> None:
        """A file's window records and the language decided for it."""
        try:  # one batch, not a call per window; a key already gone is no error
            self.records.delete_many(WINDOW_KIND, [window_key(job_id, media_id, k) for k in range(windows)])
            self.records.delete_many(LANGUAGE_KIND, [language_key(job_id, media_id)])
        except LoupeError:  # what is left goes with the job's other work records once it is final
            pass

    def _run_version(self, media_id: str, run_since: str) -> TranscriptVersion | None:
        """The newest version if this run saved it (a model version saved since the run started), else None."""
        latest = self.transcripts.latest(media_id)
        if latest is not None and run_since and latest.note == MODEL_NOTE and latest.saved_at >= run_since:
            return latest
        return None

    @property
    def records(self):
        return self.jobs.records

    def transcribable(self) -> list[MediaItem]:
        return [i for i in self.catalog.list() if i.kind in ("audio", "video")]


def window_key(job_id: str, media_id: str, index: int) -> str:
    return f"{job_id}/{media_id}/{index:05d}"


def language_key(job_id: str, media_id: str) -> str:
    return f"{job_id}/{media_id}"


def _file_name(catalog: Catalog, media_id: str) -> str:
    try:
        return catalog.get(media_id).file_name
    except LoupeError:
        return ""


def _duration_s(catalog: Catalog, media_id: str) -> float:
    try:
        return float(catalog.get(media_id).duration_s or 0.0)
    except LoupeError:
        return 0.0
