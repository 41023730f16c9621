"""Transcription as a background job: run a transcriber over media items and store each result as version 1.

The transcriber for each engine is built once per process and shared by all jobs (its model loads on first
use, under a lock). Progress is the media time transcribed against the items' total duration, and a cancel
stops the work between segments.
"""
from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from core.access import OPEN, Access, Actor
from core.catalog import Catalog
from core.cluster import Chunk, DaskCluster, Executor, is_cancel_requested, outcomes_of, run_chunks
from core.config import Config
from core.domain import Job, MediaItem
from core.errors import LoupeError
from core.jobs import JobCancelled, JobContext, JobRunner
from core.models import ModelCache
from core.project_settings import ProjectSettings
from core.transcribers import Progress, Transcriber, TranscriberConfig, load_transcriber
from core.transcripts import MODEL_NOTE, TranscriptVersion, Transcripts

log = logging.getLogger(__name__)

JOB_KIND = "transcribe"
CANCEL_CHECK_S = 2.0  # a chunk on a worker reads the job's cancel record at most this often


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
        return self.jobs.submit(JOB_KIND, {"media_ids": list(media_ids), "force": force, "model": model,
                                           "language": language}, created_by=created_by)

    def jobs_for(self, media_id: str, limit: int = 50) -> list[Job]:
        """Recent transcription jobs that include this item, newest first (any session's, any process's)."""
        return [j for j in self.jobs.recent(limit, kind=JOB_KIND) if media_id in j.params.get("media_ids", [])]

    def run_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler: one chunk per item, each transcribed where it lands (a Dask worker, or this process with
        LOUPE_DASK=off) in windows of bounded memory (core/audio.py); progress in seconds of media of the finished
        items, against the items' total duration."""
        if not self.runs_on_cluster:
            return self._run_job_here(ctx, params)
        outcomes = self.transcribe_in_chunks(ctx, list(params.get("media_ids", [])), force=bool(params.get("force")),
                                             model=params.get("model") or "", language=params.get("language"))
        return {"outcomes": outcomes, "counts": dict(Counter(o["status"] for o in outcomes))}

    @property
    def runs_on_cluster(self) -> bool:
        return isinstance(self.work, DaskCluster)

    def transcribe_in_chunks(self, ctx: JobContext, ids: list[str], *, force: bool = False, model: str = "",
                             language: str | None = None, prefix: str = "") -> list[dict[str, Any]]:
        """Transcribe these items as chunks of a job (one per item; index prefix: several steps of one job), each
        where it lands; the outcomes as dicts (TranscribeOutcome.as_json), in order."""
        payload = {"force": force, "model": model, "language": language, "run_since": ctx.job.created_at}
        chunks = [Chunk(f"{prefix}{n:05d}", {**payload, "ids": [media_id]},
                        max(1.0, _duration_s(self.catalog, media_id))) for n, media_id in enumerate(ids)]
        outcomes = outcomes_of(run_chunks(ctx, self.work, self.jobs.records, JOB_KIND, chunks))
        total_s = max(1, math.ceil(sum(c.weight for c in chunks)))
        ctx.progress(total_s, total_s, f"{len(outcomes)} item(s) done")
        return outcomes

    def _run_job_here(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """LOUPE_DASK=off: the items one after another on the job's thread, with progress in seconds of media from
        inside the model's loop, against the items' total duration."""
        ids = list(params.get("media_ids", []))
        durations = {i: _duration_s(self.catalog, i) for i in ids}
        total_s = max(1, math.ceil(sum(durations.values())))
        done_before = 0.0
        outcomes = []
        for number, media_id in enumerate(ids, 1):
            ctx.progress(min(total_s, int(done_before)), total_s, f"transcribing item {number} of {len(ids)}")
            ctx.check_cancelled()

            def progress(done_s: float, _base: float = done_before, _id: str = media_id) -> None:
                ctx.progress(min(total_s, int(_base + done_s)), total_s,
                             f"{_base + done_s:.0f} of {total_s} s transcribed")
                ctx.check_cancelled()  # raises JobCancelled, which stops the transcriber's segment loop

            outcome = self.transcribe_media(media_id, force=bool(params.get("force")), model=params.get("model") or "",
                                            language=params.get("language"), progress=progress)
            outcomes.append(outcome)
            done_before += durations[media_id]
            ctx.progress(min(total_s, int(done_before)), total_s, f"{outcome.file or media_id[:12]}: {outcome.status}")
        ctx.progress(total_s, total_s, f"{len(outcomes)} item(s) done")
        return {"outcomes": [o.as_json() for o in outcomes], "counts": dict(Counter(o.status for o in outcomes))}

    def transcribe_chunk(self, job_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One chunk of a transcription job, where it runs; stops (without saving) if the job is cancelled."""
        records = self.jobs.records
        checked = [time.monotonic()]

        def progress(_done_s: float) -> None:
            if time.monotonic() - checked[0] >= CANCEL_CHECK_S:
                checked[0] = time.monotonic()
                if is_cancel_requested(records, job_id):
                    raise JobCancelled()  # stops the transcriber's segment loop

        outcomes = [self.transcribe_media(media_id, force=payload.get("force", False), model=payload.get("model", ""),
                                          language=payload.get("language"), progress=progress,
                                          run_since=payload.get("run_since", "")).as_json()
                    for media_id in payload["ids"]]
        return {"outcomes": outcomes}

    def transcribable(self) -> list[MediaItem]:
        return [i for i in self.catalog.list() if i.kind in ("audio", "video")]


def _duration_s(catalog: Catalog, media_id: str) -> float:
    try:
        return float(catalog.get(media_id).duration_s or 0.0)
    except LoupeError:
        return 0.0
