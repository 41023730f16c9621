"""The composition root: builds every part of the core from named collaborators, registers every job kind, and is
the one object pages, the command line and tests reach the core through (docs/developing.md, "Service API").

The app builds it once in `st.cache_resource`; tests and the CLI build it around a temporary folder or a DynamoDB
endpoint, as `with build_service(config) as service:`. Stores, labelers and transcribers can be injected; anything
not given is built from the config (models load lazily, once per process).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType

from core import catalog, demo, exports, labeling, learning, loop_starter, transcription
from core.a2i_flows import FlowDefinitions
from core.a2i_loops import A2ILoops
from core.a2i_outputs import A2IOutputs, default_output_path
from core.access import LOCAL_ADMIN, Access, Actor
from core.answers import Answers
from core.api_keys import ApiKeys
from core.audit import AuditLog
from core.catalog import Catalog, Upload
from core.cluster import ChunkTask, open_executor
from core.config import Config
from core.consolidation import Consolidation
from core.demo import Demo
from core.detections import Detections
from core.domain import Job
from core.embeddings import Embeddings
from core.errors import LoupeError, StoreUnavailable
from core.exports import Exports
from core.ground_truth_import import GroundTruthImport
from core.jobs import JobRunner
from core.label_names import LabelNames, Listing
from core.label_snapshots import LabelSnapshots
from core.labelers import Labeler
from core.labeling import Labeling
from core.learning import Learning
from core.leftovers import Leftovers
from core.loop_starter import LoopStarter
from core.loops import Loops
from core.media_list import MediaList
from core.media_refs import MediaRefs
from core.members import Members
from core.migration import ResultsMigrationReport, migrate_results
from core.models import ModelCache
from core.predictions import Predictions
from core.project_settings import ProjectSettings
from core.results import Results
from core.review import Review
from core.routing import Router
from core.stores import open_stores
from core.stores.base import BlobStore, RecordStore, StoreHealth
from core.transcribers import Transcriber
from core.transcription import Transcription
from core.transcripts import Transcripts
from core.webhooks import Webhooks, WebhookSettings
from core.workflows import Workflows

log = logging.getLogger(__name__)


class Service:
    def __init__(self, config: Config, *, start_jobs: bool = True,
                 stores: tuple[RecordStore, BlobStore] | None = None,
                 labelers: Mapping[str, Labeler] | None = None,
                 transcribers: Mapping[str, Transcriber] | None = None, local_admin: bool = False,
                 models: ModelCache | None = None):
        """`stores`: (records, blobs) to use instead of the ones the config names; `labelers` / `transcribers`:
        backend or engine name -> instance to use instead of building it (see Labeling and Transcription).
        `local_admin`: a call that names no actor acts as the local admin (the command line) even when
        `LOUPE_AUTH=oidc`; otherwise only with `LOUPE_AUTH=none` (core/access.py). `models`: the model cache to
        share (a Dask worker's, one per process: core/cluster.py)."""
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.records, self.blobs = stores or open_stores(config)
        records = self.records
        self.jobs = JobRunner(records, max_workers=config.job_workers)
        self.audit = AuditLog(records)  # who changed what (core/audit.py)
        self.members = Members.from_config(records, self.audit, config)
        default_actor = LOCAL_ADMIN if local_admin or config.auth == "none" else None
        self.access = Access(self.members, default=default_actor, audit=self.audit)
        self.members.access = self.access
        self.jobs.access = self.access  # who may cancel a job
        self.settings = ProjectSettings(records, config, self.access)  # Settings page overrides; read per run
        self.catalog = Catalog(records, self.blobs, config)
        self.media_list = MediaList(records, self.catalog)  # the Images and Transcripts lists, a page at a time
        self.label_names = LabelNames(records)  # what the "add a label" box suggests, kept as labels are written
        self.predictions = Predictions(records, self.label_names)
        self.workflows = Workflows(records, self.access)
        self.loops = Loops(records)
        self.answers = Answers(records, self.label_names)
        self.models = models or ModelCache()  # every labeler and transcriber of the process, loaded once
        for name, labeler in (labelers or {}).items():
            self.models.put("labeler", name, labeler)
        for name, transcriber in (transcribers or {}).items():
            self.models.put("transcriber", name, transcriber)
        self.labeling = Labeling(self.catalog, self.predictions, self.jobs, config, self.settings, models=self.models)
        self.consolidation = Consolidation(records, self.loops, self.answers, self.predictions, self.workflows,
                                           catalog=self.catalog)
        self.embeddings = Embeddings(records)
        self.learning = Learning(records, self.consolidation, self.embeddings, self.jobs,  # team models
                                 predictions=self.predictions, workflows=self.workflows)
        self.labeling.learning = self.learning
        self.ground_truth = GroundTruthImport(self.catalog, self.workflows, self.loops, self.answers,
                                              self.consolidation)
        self.review = Review(records, self.workflows, self.loops, self.answers, on_completed=self._loop_completed)
        self.transcripts = Transcripts(records, self.catalog, self.loops, self.workflows, review=self.review)
        self.transcription = Transcription(config, self.catalog, self.transcripts, self.jobs, self.settings,
                                           models=self.models)
        self.routing = Router(self.predictions, self.catalog, LabelSnapshots(records, self.blobs))
        self.loop_starter = LoopStarter(self.routing, self.workflows, self.loops, self.catalog, self.transcripts,
                                        self.jobs)
        self.exports = Exports(self.workflows, self.loops, self.answers, self.predictions, self.consolidation,
                               self.catalog, self.jobs, config)
        self.results = Results(self.workflows, self.loops, self.answers, self.predictions, self.consolidation,
                               self.catalog, self.transcripts)
        self.demo = Demo(self.catalog, self.labeling, self.predictions, self.transcription, self.routing,
                         self.loop_starter, self.workflows, self.jobs)
        self.leftovers = Leftovers(records, self.blobs, self.catalog, self.jobs)
        for part in (self.consolidation, self.labeling, self.learning, self.ground_truth, self.review, self.transcripts,
                     self.transcription,
                     self.loop_starter, self.exports, self.demo):
            part.access = self.access
        self._build_aws_faces(config)
        self._register_jobs()
        self.chunk_tasks: dict[str, ChunkTask] = {labeling.JOB_KIND: self.labeling.label_chunk,
                                                  transcription.JOB_KIND: self.transcription.transcribe_chunk}
        self.cluster = open_executor(config, records, self.chunk_tasks)  # where model work runs: core/cluster.py
        self.labeling.work = self.transcription.work = self.cluster
        self.results_migration = self._migrate_results()
        self.label_names_listing = self._list_label_names()
        if start_jobs:  # leftovers cleaned; abandoned jobs resumed now and every heartbeat, with or without a browser
            try:  # the cheap, local part; `python -m core gc` also sweeps the media store and DynamoDB
                self.leftovers.collect(local_only=True)
            except Exception:
                log.warning("leftovers not cleaned at startup", exc_info=True)
            self.webhooks.start()
            try:
                self.jobs.recover()
            except StoreUnavailable as exc:  # keep the app up so Settings can say what is wrong
                log.error("store unavailable, interrupted jobs not resumed yet: %s", exc)
            self.jobs.watch()
            self.cluster.start()  # a local cluster starts now, not when the first job needs it

    def _register_jobs(self) -> None:
        """Every job kind and its handler, in one place. Each part submits its own kind through a typed method."""
        register = self.jobs.register
        register(catalog.JOB_KIND, self.labeling.label_after(self.catalog.run_ingest_job))  # auto-label
        register(labeling.JOB_KIND, self.labeling.run_label_job)
        register(transcription.JOB_KIND, self.transcription.run_job)
        register(loop_starter.JOB_KIND, self.loop_starter.run_route_job)
        register(exports.JOB_KIND, self.exports.run_export_job)
        register(demo.JOB_KIND, self.demo.run_job)
        register(learning.JOB_KIND, self.learning.run_learn_job)

    def _migrate_results(self) -> ResultsMigrationReport | None:
        """Key results by (workflow, item) in a store written before they were (one marker read once done)."""
        try:
            return migrate_results(self.records, self.consolidation, self.loops)
        except StoreUnavailable as exc:  # keep the app up so Settings can say what is wrong
            log.error("store unavailable, results not migrated to per-workflow keys: %s", exc)
            return None

    def _list_label_names(self) -> Listing | None:
        """List the label names of a store written before they were listed (one marker read once done)."""
        try:
            return self.label_names.ensure_listed()
        except StoreUnavailable as exc:  # keep the app up so Settings can say what is wrong
            log.error("store unavailable, label names of older predictions not listed yet: %s", exc)
            return None

    def submit_uploads(self, files: list[Upload], *, created_by: str = "", actor: Actor | None = None) -> Job:
        """Stage uploads (bytes or streams, copied in chunks) on disk and ingest them in a background job.
        Admins only."""
        current = self.access.require(actor, "media")
        created_by = created_by if current.is_local else current.id
        staged = self.catalog.stage_uploads(files)
        job = self.jobs.submit(catalog.JOB_KIND, {"files": staged, "staged": True, "created_by": created_by},
                               created_by=created_by)
        self.access.record(current, "media", f"{len(files)} uploads", detail=f"ingest job {job.job_id}")
        return job

    def load_demo(self, *, created_by: str = "", actor: Actor | None = None) -> Job:
        """Ingest, label and transcribe the demo set, and queue it for review (core/demo.py), as one job."""
        return self.demo.submit(created_by=created_by, actor=actor)

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

    def _build_aws_faces(self, config: Config) -> None:
        """What the AWS-compatible API (api/) calls: keys, flow definitions, A2I loops, Rekognition, webhooks."""
        records = self.records
        self.api_keys = ApiKeys(records)
        self.flow_definitions = FlowDefinitions(records, self.workflows, default_output_path(config))
        self.webhooks = Webhooks(records, WebhookSettings.parse(config.webhook_urls, config.webhook_secret))
        self.media_refs = MediaRefs(self.catalog, config)
        self.a2i = A2ILoops(records, self.loops, self.workflows, self.flow_definitions, self.catalog,
                            self.predictions, self.answers, self.media_refs, A2IOutputs(config), self.webhooks)
        self.detections = Detections(self.media_refs, self.labeling, self.workflows, self.a2i)

    def _loop_completed(self, loop) -> None:
        """A loop got its last answer (any face): consolidate it, then its A2I output.json and webhook events."""
        self.consolidation.on_completed(loop)
        try:
            self.learning.after_answers()  # retrain after N new answers, when that setting is on
        except LoupeError as exc:
            log.error("could not queue retraining after loop %s: %s", loop.loop_id, exc)
        try:
            self.a2i.on_finished(loop)  # output.json and webhook events; the answer itself is already kept
        except LoupeError as exc:
            log.error("human loop %s completed, but its A2I output or events were not recorded: %s", loop.loop_id, exc)

    def close(self) -> None:
        self.webhooks.stop()
        self.jobs.shutdown(wait=True)
        self.cluster.close()
        self.routing.wait_for_snapshot()  # a snapshot half written is only wasted work, but the store closes next
        self.records.close()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def build_service(config: Config | None = None, *, start_jobs: bool = True,
                  stores: tuple[RecordStore, BlobStore] | None = None, labelers: Mapping[str, Labeler] | None = None,
                  transcribers: Mapping[str, Transcriber] | None = None, local_admin: bool = False) -> Service:
    """The service for this config (from the environment by default); use it as a context manager to close it."""
    return Service(config or Config.from_env(), start_jobs=start_jobs, stores=stores, labelers=labelers,
                   transcribers=transcribers, local_admin=local_admin)
