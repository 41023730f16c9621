"""The service facade: the one object pages, the command line and tests use to reach the core.

It owns the stores, the job runner and the models (loaded lazily, once per process). The app builds it
once in `st.cache_resource`; tests build it around a temporary folder or a local DynamoDB endpoint.
"""
from __future__ import annotations

import logging

from core.answers import Answers
from core.catalog import Catalog, Upload
from core.config import Config
from core.consolidation import Consolidation
from core.demo import run_demo_job
from core.domain import Job
from core.exports import Exports
from core.jobs import JobRunner
from core.labeling import Labeling
from core.loops import Loops
from core.models import ModelCache
from core.predictions import Predictions
from core.project_settings import ProjectSettings
from core.routing import Router
from core.results import Results
from core.review import Review
from core.stores import open_stores
from core.errors import StoreUnavailable
from core.stores.base import StoreHealth
from core.transcription import Transcription
from core.transcripts import Transcripts
from core.workflows import Workflows

log = logging.getLogger(__name__)

class Service:
    def __init__(self, config: Config, *, start_jobs: bool = True):
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.records, self.blobs = open_stores(config)
        self.jobs = JobRunner(self.records, max_workers=config.job_workers)
        self.catalog = Catalog(self.records, self.blobs, config)
        self.predictions = Predictions(self.records)
        self.settings = ProjectSettings(self.records, config)  # Settings page overrides over config; read per run
        self.models = ModelCache()  # every labeler and transcriber of the process, loaded once
        self.labeling = Labeling(self.catalog, self.predictions, self.jobs, config, self.settings, models=self.models)
        self.jobs.register("label", self.labeling.run_label_job)
        self.workflows = Workflows(self.records)
        self.loops = Loops(self.records)
        self.answers = Answers(self.records)
        self.consolidation = Consolidation(self.records, self.loops, self.answers, self.predictions, self.workflows,
                                           catalog=self.catalog)
        self.review = Review(self.records, self.workflows, self.loops, self.answers,
                             on_completed=self.consolidation.on_completed)
        self.exports = Exports(self)
        self.results = Results(self)
        self.jobs.register("export", self.exports.run_export_job)
        self.transcripts = Transcripts(self.records, self.catalog, self.loops, self.workflows, review=self.review)
        self.transcription = Transcription(config, self.catalog, self.transcripts, self.jobs,  # registers "transcribe"
                                           self.settings, models=self.models)
        self.jobs.register("ingest", self.labeling.label_after(self.catalog.run_ingest_job))  # auto-label
        self.routing = Router(self.predictions, self.workflows, self.loops, self.catalog, self.transcripts)
        self.jobs.register("route", self.routing.run_route_job)
        self.jobs.register("demo", lambda ctx, params: run_demo_job(self, ctx, params))
        if start_jobs:
            try:
                self.jobs.resume_interrupted()
            except StoreUnavailable as exc:  # keep the app up so Settings can say what is wrong
                log.error("store unavailable, interrupted jobs not resumed: %s", exc)

    def submit_uploads(self, files: list[Upload], *, created_by: str = "") -> Job:
        """Stage uploads (bytes or streams, copied in chunks) on disk and ingest them in a background job."""
        staged = self.catalog.stage_uploads(files)
        return self.jobs.submit("ingest", {"files": staged, "staged": True, "created_by": created_by},
                                created_by=created_by)

    def load_demo(self, *, created_by: str = "") -> Job:
        """Ingest, label and transcribe the demo set, and queue it for review (core/demo.py), as one job."""
        return self.jobs.submit("demo", {"created_by": created_by}, created_by=created_by)

    def describe_backends(self) -> dict[str, str]:
        return {
            "store": self.config.store,
            "data_dir": str(self.config.data_dir),
            "records": self.records.describe(),
            "media": self.blobs.describe(),
        }

    def check_backends(self) -> dict[str, StoreHealth]:
        """Whether the record store and the media store are reachable, in plain words. Never raises."""
        return {"records": self.records.check(), "media": self.blobs.check()}

    def close(self) -> None:
        self.jobs.shutdown(wait=True)
        self.records.close()



def build_service(config: Config | None = None, *, start_jobs: bool = True) -> Service:
    return Service(config or Config.from_env(), start_jobs=start_jobs)
