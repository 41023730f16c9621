"""The one-click demo: ingest the bundled demo set, label and transcribe it, and queue it for people.

A stakeholder sees the whole loop within a minute of the first start: model output on the Images and
Transcripts pages, the threshold split on Thresholds, and open tasks on Label review.
"""
from __future__ import annotations

import logging
from typing import Any

from core.config import APP_ROOT
from core.domain import Workflow
from core.errors import AlreadyExists
from core.routing import Thresholds, workflow_with_thresholds

log = logging.getLogger(__name__)

DEMO_DIR = APP_ROOT / "demo"
DEMO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".wav", ".mp3", ".flac", ".ogg", ".m4a", ".mp4", ".webm"}
DEMO_WORKFLOW = "demo-label-review"
DEMO_ACCEPT_AT = 0.9  # labels the model is at least 90% sure of are accepted; the rest go to people


def demo_files() -> list[list[str]]:
    return [[str(p), p.name] for p in sorted(DEMO_DIR.iterdir()) if p.suffix.lower() in DEMO_SUFFIXES]


def run_demo_job(service, ctx, params: dict[str, Any]) -> dict[str, Any]:
    """Job handler: ingest, label, transcribe, then start label-review loops for the demo workflow."""
    ingest = service.catalog.run_ingest_job(ctx, {**params, "files": demo_files(), "staged": False})
    ids = [o["media_id"] for o in ingest["outcomes"] if o.get("media_id")]
    items = [service.catalog.get(i) for i in ids]
    images = [i.media_id for i in items if i.kind == "image"]
    speech = [i.media_id for i in items if i.kind in ("audio", "video")]
    total = len(images) + len(speech) + 1
    ctx.progress(0, total, "labeling the demo images")
    labeled = service.labeling.label(images, backend="local",
                                     progress=lambda done, _n, last: ctx.progress(done, total, f"labeled {last}"))
    transcribed = []
    for n, media_id in enumerate(speech, start=len(images)):
        ctx.check_cancelled()
        ctx.progress(n, total, "transcribing the demo speech")
        transcribed.append(service.transcription.transcribe_media(media_id))  # kept if already transcribed
    ctx.progress(total - 1, total, "queueing items for people")
    _ensure_workflow(service)
    started = service.routing.start_loops(DEMO_WORKFLOW)
    ctx.progress(total, total, "done")
    return {
        **ingest,
        "labeled": sum(o.status == "labeled" for o in labeled),
        "transcribed": sum(o.status == "transcribed" for o in transcribed),
        "workflow": DEMO_WORKFLOW,
        "loops_created": started.created,
    }


def _ensure_workflow(service) -> None:
    thresholds = Thresholds(high=DEMO_ACCEPT_AT, category="general")
    names = service.routing.frame("general").label_names if "general" in service.routing.categories_present() else ()
    workflow = workflow_with_thresholds(
        Workflow(name=DEMO_WORKFLOW, task_type="label_review", task_count=1, title="Check the demo labels",
                 description="Keep the labels that are right, remove the wrong ones, add what is missing.",
                 instructions="Untick wrong labels, add missing ones (for example \"Polo shirt\"), draw boxes."),
        thresholds, names)
    try:
        service.workflows.save(workflow)
    except AlreadyExists:
        pass
