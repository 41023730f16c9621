"""The one-click demo: ingest the bundled demo set, label and transcribe it, and queue it for people.

A stakeholder sees the whole loop within a minute of the first start: model output on the Images and
Transcripts pages, the threshold split on Thresholds, and open tasks on Label review.
"""
from __future__ import annotations

import logging
from typing import Any

from core.catalog import Catalog
from core.config import APP_ROOT
from core.domain import Job, Workflow
from core.errors import AlreadyExists
from core.jobs import JobContext, JobRunner
from core.labeling import Labeling
from core.loop_starter import LoopStarter
from core.routing import Router, workflow_with_thresholds
from core.routing_policy import Thresholds
from core.task_types import label_review
from core.transcription import Transcription
from core.workflows import Workflows

log = logging.getLogger(__name__)

JOB_KIND = "demo"
DEMO_DIR = APP_ROOT / "demo"
DEMO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".wav", ".mp3", ".flac", ".ogg", ".m4a", ".mp4", ".webm"}
DEMO_WORKFLOW = "demo-label-review"
DEMO_ACCEPT_AT = 0.9  # labels the model is at least 90% sure of are accepted; the rest go to people


def demo_files() -> list[list[str]]:
    return [[str(p), p.name] for p in sorted(DEMO_DIR.iterdir()) if p.suffix.lower() in DEMO_SUFFIXES]


class Demo:
    """The demo job: ingest, label, transcribe, then start label-review loops for the demo workflow."""

    def __init__(self, catalog: Catalog, labeling: Labeling, transcription: Transcription, router: Router,
                 loop_starter: LoopStarter, workflows: Workflows, jobs: JobRunner):
        self.catalog = catalog
        self.labeling = labeling
        self.transcription = transcription
        self.router = router
        self.loop_starter = loop_starter
        self.workflows = workflows
        self.jobs = jobs

    def submit(self, *, created_by: str = "") -> Job:
        return self.jobs.submit(JOB_KIND, {"created_by": created_by}, created_by=created_by)

    def run_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        ingest = self.catalog.run_ingest_job(ctx, {**params, "files": demo_files(), "staged": False})
        ids = [o["media_id"] for o in ingest["outcomes"] if o.get("media_id")]
        items = [self.catalog.get(i) for i in ids]
        images = [i.media_id for i in items if i.kind == "image"]
        speech = [i.media_id for i in items if i.kind in ("audio", "video")]
        total = len(images) + len(speech) + 1
        ctx.progress(0, total, "labeling the demo images")
        labeled = self.labeling.label(images, backend="local",
                                      progress=lambda done, _n, last: ctx.progress(done, total, f"labeled {last}"))
        transcribed = []
        for n, media_id in enumerate(speech, start=len(images)):
            ctx.check_cancelled()
            ctx.progress(n, total, "transcribing the demo speech")
            transcribed.append(self.transcription.transcribe_media(media_id))  # kept if already transcribed
        ctx.progress(total - 1, total, "queueing items for people")
        self._ensure_workflow()
        started = self.loop_starter.start_loops(DEMO_WORKFLOW)
        ctx.progress(total, total, "done")
        return {
            **ingest,
            "labeled": sum(o.status == "labeled" for o in labeled),
            "transcribed": sum(o.status == "transcribed" for o in transcribed),
            "workflow": DEMO_WORKFLOW,
            "loops_created": started.created,
        }

    def _ensure_workflow(self) -> None:
        thresholds = Thresholds(high=DEMO_ACCEPT_AT, category="general")
        names = self.router.frame("general").label_names if "general" in self.router.categories_present() else ()
        workflow = workflow_with_thresholds(
            Workflow(name=DEMO_WORKFLOW, task_type=label_review.SPEC.name, task_count=1, title="Check the demo labels",
                     description="Keep the labels that are right, remove the wrong ones, add what is missing.",
                     instructions="Untick wrong labels, add missing ones (for example \"Polo shirt\"), draw boxes."),
            thresholds, names)
        try:
            self.workflows.save(workflow)
        except AlreadyExists:
            pass
