"""The one-click demo: ingest the bundled demo set, label and transcribe it, and queue it for people.

A stakeholder sees the whole loop within a minute of the first start: model output on the Images and
Transcripts pages, the threshold split on Thresholds, and open tasks on Label review and on the A2I-style
Moderation task. The demo photos (demo/make_demo.py) are chosen so that the model's confidences spread, and
demo-label-review routes with two thresholds (drop below 25%, accept at or above 90%): moving the accept threshold on
Thresholds from 90% to 60% to 30% moves photos from review to accepted, and the photos the model knows nothing about
sit in dropped (tests/core/test_demo_thresholds.py).

The bundled moderation labeler flags none of the demo photos, so the demo ships Rekognition-shaped
DetectModerationLabels responses for two of them (demo/moderation-labels.jsonl), added to their predictions next to
the bundled labeler's image labels; the demo-moderation workflow's instructions say so on the task page.

The demo only ever touches demo media: its loops are started for the demo's own items, never for what a user
uploaded, and running it again adds nothing (ingest finds duplicates, labeled items are not labeled again, loops
exist).
"""
from __future__ import annotations

import json
import logging
from typing import Any

from core.access import OPEN, Access, Actor, job_actor
from core.catalog import Catalog
from core.cluster import chunk_report
from core.config import APP_ROOT
from core.domain import Job, Label, Prediction, Workflow
from core.errors import AlreadyExists
from core.formats.rekognition import parse_detect_moderation_labels
from core.jobs import JobContext, JobRunner
from core.labeling import Labeling
from core.loop_starter import LoopStarter
from core.predictions import Predictions
from core.routing import Router, workflow_with_thresholds
from core.routing_policy import DROP_REVIEW_ACCEPT, Thresholds
from core.task_types import label_review, moderation
from core.transcription import Transcription
from core.workflows import Workflows

log = logging.getLogger(__name__)

JOB_KIND = "demo"
DEMO_DIR = APP_ROOT / "demo"
DEMO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".wav", ".mp3", ".flac", ".ogg", ".m4a", ".mp4", ".webm"}
DEMO_WORKFLOW = "demo-label-review"
MODERATION_WORKFLOW = "demo-moderation"
DEMO_ACCEPT_AT = 0.9  # labels the model is at least 90% sure of are accepted; the rest go to people ...
DEMO_DROP_BELOW = 0.25  # ... except the labels it is under 25% sure of: the long tail of guesses, dropped
MODERATION_LABELS = DEMO_DIR / "moderation-labels.jsonl"  # one DetectModerationLabels response per line, by "file"
MODERATION_VERSION = "demo moderation labels (Rekognition-shaped, demo/moderation-labels.jsonl)"
MODERATION_NOTE = ("The moderation labels on these demo photos are Rekognition-shaped predictions shipped with the "
                   "demo (demo/moderation-labels.jsonl); the bundled model flags none of them. Tick what you really "
                   "see: None of the above is a fine answer.")


def demo_files() -> list[list[str]]:
    return [[str(p), p.name] for p in sorted(DEMO_DIR.iterdir()) if p.suffix.lower() in DEMO_SUFFIXES]


class Demo:
    """The demo job: ingest, label, transcribe, then start the demo workflows' loops for the demo's items."""

    access: Access = OPEN  # the service sets its own

    def __init__(self, catalog: Catalog, labeling: Labeling, predictions: Predictions, transcription: Transcription,
                 router: Router, loop_starter: LoopStarter, workflows: Workflows, jobs: JobRunner):
        self.catalog = catalog
        self.labeling = labeling
        self.predictions = predictions
        self.transcription = transcription
        self.router = router
        self.loop_starter = loop_starter
        self.workflows = workflows
        self.jobs = jobs

    def submit(self, *, created_by: str = "", actor: Actor | None = None) -> Job:
        current = self.access.require(actor, "media")
        created_by = created_by if current.is_local else current.id
        return self.jobs.submit(JOB_KIND, {"created_by": created_by}, created_by=created_by)

    def is_loaded(self) -> bool:
        """Whether the demo has run: its workflows exist."""
        return self.workflows.version(DEMO_WORKFLOW) is not None and \
            self.workflows.version(MODERATION_WORKFLOW) is not None

    def run_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        files = demo_files()
        ingest = self.catalog.run_ingest_job(ctx, {**params, "files": files, "staged": False})
        by_file = {name: o["media_id"] for (_, name), o in zip(files, ingest["outcomes"]) if o.get("media_id")}
        items = [self.catalog.get(i) for i in by_file.values()]
        labeled_before = self.predictions.labeled_ids()
        images = [i.media_id for i in items if i.kind == "image" and i.media_id not in labeled_before]
        speech = [i.media_id for i in items if i.kind in ("audio", "video")]
        total = len(images) + len(speech) + 1
        ctx.progress(0, total, "labeling the demo images")
        if self.transcription.runs_on_cluster:  # on the Dask workers, as chunks of this job: the app loads no model
            label_outcomes = self.labeling.label_in_chunks(ctx, images, backend="local", prefix="label-")
            speech_outcomes = self.transcription.transcribe_in_chunks(ctx, speech, prefix="speech-")
            labeled = [o["status"] for o in label_outcomes]
            transcribed = [o["status"] for o in speech_outcomes]
        else:
            labeled = [o.status for o in self.labeling.label(
                images, backend="local", progress=lambda done, _n, last: ctx.progress(done, total, f"labeled {last}"))]
            transcribed = []
            for n, media_id in enumerate(speech, start=len(images)):
                ctx.check_cancelled()
                ctx.progress(n, total, "transcribing the demo speech")
                transcribed.append(self.transcription.transcribe_media(media_id).status)  # kept if already done
        ctx.progress(total - 1, total, "queueing items for people")
        moderated = self._add_moderation_labels(by_file)
        actor = job_actor(ctx.job.created_by)
        self._ensure_workflows(actor)
        demo_ids = tuple(by_file.values())
        started = self.loop_starter.start_loops(DEMO_WORKFLOW, media_ids=demo_ids, actor=actor)
        moderation_started = self.loop_starter.start_loops(MODERATION_WORKFLOW, media_ids=demo_ids, actor=actor)
        ctx.progress(total, total, "done")
        return {
            **ingest,
            "labeled": labeled.count("labeled"),
            "transcribed": transcribed.count("transcribed"),
            "moderation_labeled": moderated,
            "workflow": DEMO_WORKFLOW,
            "loops_created": started.created,
            "moderation_workflow": MODERATION_WORKFLOW,
            "moderation_loops_created": moderation_started.created,
            "chunks": chunk_report(self.jobs.records, ctx.job.job_id),  # where its model work ran
        }

    def _add_moderation_labels(self, by_file: dict[str, str]) -> int:
        """Add the shipped moderation labels to the demo photos' predictions, keeping their image labels."""
        added = 0
        for line in MODERATION_LABELS.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            response = json.loads(line)
            media_id = by_file.get(response["file"])
            current = self.predictions.get(media_id) if media_id else None
            if media_id is None or current is None:
                log.warning("demo moderation labels for %s skipped: the photo has no prediction", response["file"])
                continue
            shipped = parse_detect_moderation_labels(response)
            if _has_labels(current, shipped):
                continue
            names = {lb.name for lb in shipped}
            kept = tuple(lb for lb in current.labels if lb.category != "moderation" or lb.name not in names)
            version = current.model_version if MODERATION_VERSION in current.model_version else \
                f"{current.model_version} + {MODERATION_VERSION}"
            self.predictions.save(Prediction(media_id, version, kept + tuple(shipped), source=current.source))
            added += 1
        return added

    def _ensure_workflows(self, actor: Actor) -> None:
        general = Thresholds(high=DEMO_ACCEPT_AT, low=DEMO_DROP_BELOW, mode=DROP_REVIEW_ACCEPT, category="general")
        self._save_once(Workflow(
            name=DEMO_WORKFLOW, task_type=label_review.SPEC.name, task_count=1, title="Check the demo labels",
            description="Keep the labels that are right, remove the wrong ones, add what is missing.",
            instructions="Untick wrong labels, add missing ones (for example \"Polo shirt\"), draw boxes."), general,
            actor)
        self._save_once(Workflow(
            name=MODERATION_WORKFLOW, task_type=moderation.SPEC.name, task_count=1,
            title="Check the demo's moderation labels",
            description="Tick the moderation categories that really appear in the photo.",
            instructions=MODERATION_NOTE), Thresholds(high=DEMO_ACCEPT_AT, category="moderation"), actor)

    def _save_once(self, workflow: Workflow, thresholds: Thresholds, actor: Actor) -> None:
        if self.workflows.version(workflow.name) is not None:
            return
        category = thresholds.category
        names = self.router.frame(category).label_names if category in self.router.categories_present() else ()
        try:
            self.workflows.save(workflow_with_thresholds(workflow, thresholds, names), actor=actor)
        except AlreadyExists:
            pass


def _has_labels(prediction: Prediction, labels: list[Label]) -> bool:
    present = {(lb.name, lb.category, round(lb.confidence, 4)) for lb in prediction.labels}
    return all((lb.name, lb.category, round(lb.confidence, 4)) in present for lb in labels)
