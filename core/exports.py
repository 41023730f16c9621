"""Exports of reviewed results (Ground Truth manifest, A2I output.json per loop, CSV) to a folder or an S3 prefix,
and the import of A2I output.json files as ground truth.

An item's labels are its final labels: consolidated human answers where people reviewed it, the model's labels
at or above the workflow's threshold elsewhere. Exports run synchronously from the CLI and as a background job
("export") from the app.
"""
from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.answers import Answers
from core.aws import aws_error_message, aws_error_types, make_client
from core.catalog import Catalog
from core.config import Config
from core.consolidation import Consolidation, final_labels
from core.domain import HumanLoop, Job, Prediction, Workflow
from core.errors import LoupeError
from core.formats.a2i import output_path, parse_output_json, to_output_json
from core.formats.ground_truth import manifest_line
from core.jobs import JobContext, JobRunner
from core.loops import Loops
from core.predictions import Predictions
from core.routing_policy import DEFAULT_THRESHOLD
from core.task_types import task_type_of
from core.workflows import Workflows

log = logging.getLogger(__name__)

JOB_KIND = "export"
FORMATS = ("gt-manifest", "a2i", "csv")
CSV_COLUMNS = ["media_id", "file_name", "kind", "label", "parent_name", "confidence", "source", "reviewers",
               "left", "top", "width", "height"]
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportResult:
    destination: str
    files: int
    items: int


@dataclass(frozen=True)
class A2iImport:
    """What importing A2I output.json files did: the loops brought in, and each file refused with its reason."""
    imported: list[str] = field(default_factory=list)  # loop names
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


class Destination:
    """A folder or an `s3://bucket/prefix`; files are written by relative path."""

    def __init__(self, target: str):
        self.target = target
        self.is_s3 = target.startswith("s3://")
        if self.is_s3:
            bucket, _, prefix = target[5:].partition("/")
            if not bucket:
                raise LoupeError(f"{target!r} names no S3 bucket; use s3://bucket/prefix.")
            self.bucket, self.prefix = bucket, prefix.strip("/")
            try:
                self.s3 = make_client("s3")
            except aws_error_types() as exc:  # NoRegionError and friends are raised when a client is made
                raise self._failed(exc) from exc
        else:
            self.root = Path(target).expanduser()
            self.root.mkdir(parents=True, exist_ok=True)

    def write_text(self, rel: str, text: str) -> str:
        if self.is_s3:
            key = f"{self.prefix}/{rel}" if self.prefix else rel
            try:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=text.encode(), ContentType="application/json")
            except aws_error_types() as exc:
                raise self._failed(exc) from exc
            return f"s3://{self.bucket}/{key}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def _failed(self, exc: Exception) -> LoupeError:
        return LoupeError(aws_error_message(exc, what=f"S3 bucket {self.bucket!r}", permissions=("s3:PutObject",)))


class Exports:
    def __init__(self, workflows: Workflows, loops: Loops, answers: Answers, predictions: Predictions,
                 consolidation: Consolidation, catalog: Catalog, jobs: JobRunner, config: Config):
        self.workflows = workflows
        self.loops = loops
        self.answers = answers
        self.predictions = predictions
        self.consolidation = consolidation
        self.catalog = catalog
        self.jobs = jobs
        self.config = config  # which store (local media paths as source-refs) and the S3 bucket of A2I output

    def submit(self, fmt: str, out: str, *, workflow: str | None = None, created_by: str = "") -> Job:
        """Export in the background (the "export" job); the job's result names the destination and counts."""
        return self.jobs.submit(JOB_KIND, {"format": fmt, "out": out, "workflow": workflow}, created_by=created_by)

    # ---- export ------------------------------------------------------------------------------------
    def export(self, fmt: str, out: str, *, workflow: str | None = None, attribute: str = "labels",
               source_prefix: str = "", progress: ProgressFn | None = None) -> ExportResult:
        if fmt not in FORMATS:
            raise LoupeError(f"Export format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
        workflows = {wf.name: wf for wf in self.workflows.list()}
        if workflow is not None and workflow not in workflows:
            raise LoupeError(f"There is no workflow named {workflow!r}.")
        dest = Destination(out)
        loops = [lp for lp in self.loops.list(workflow)]
        if fmt == "a2i":
            return self._export_a2i(dest, loops, workflows, progress)
        media = {m.media_id: m for m in self.catalog.list(kind="image")}
        predictions = {p.media_id: p for p in self.predictions.all()}
        consolidated = {c.media_id: c for c in self.consolidation.all()}
        loop_wf = {lp.media_id: workflows.get(lp.workflow) for lp in loops}
        if workflow is not None:
            ids = sorted(loop_wf)
        else:
            ids = sorted(m for m in media if m in predictions or m in consolidated)
        ids = [m for m in ids if m in media]
        rows = []
        for i, media_id in enumerate(ids):
            wf = loop_wf.get(media_id)
            threshold = wf.routing.accept_at if wf else DEFAULT_THRESHOLD
            cons = consolidated.get(media_id)
            finals = final_labels(predictions.get(media_id), cons, threshold)
            boxes = self._boxes(predictions.get(media_id), cons, threshold)
            rows.append((media[media_id], finals, boxes, cons))
            if progress and (i % 500 == 0 or i + 1 == len(ids)):
                progress(i + 1, len(ids))
        if fmt == "csv":
            return ExportResult(dest.write_text("labels.csv", _csv(rows)), 1, len(rows))
        names = sorted({f.name for _, finals, _, _ in rows for f in finals}
                       | {b[0] for _, _, bx, _ in rows for b in bx})
        class_ids = {n: i for i, n in enumerate(names)}
        lines = []
        for item, finals, boxes, cons in rows:
            ref = f"{source_prefix.rstrip('/')}/{item.file_name}" if source_prefix else self._local_ref(item)
            size = (item.width, item.height) if item.width and item.height else None
            lines.append(json.dumps(manifest_line(
                ref, attribute, [(f.name, f.confidence) for f in finals], class_ids,
                is_human=any(f.source == "human" for f in finals) or cons is not None,
                created_at=cons.updated_at if cons else "", boxes=boxes, image_size=size)))
        text = "\n".join(lines) + ("\n" if lines else "")
        return ExportResult(dest.write_text("output.manifest", text), 1, len(rows))

    def _local_ref(self, item) -> str:
        """Where the media lies, without fetching it: the stored file for the local store, else its file name."""
        if self.config.store != "local":
            return item.file_name
        try:
            return str(self.catalog.media_path(item.media_id))
        except LoupeError:
            log.warning("media file of %s is missing; source-ref falls back to its name", item.file_name)
            return item.file_name

    @staticmethod
    def _boxes(pred: Prediction | None, cons, threshold: float) -> list[tuple[str, Any, float]]:
        if cons is not None and cons.boxes:
            return [(b.label, b.box, b.confidence) for b in cons.boxes]
        if cons is not None and task_type_of(cons.task_type).reviews_boxes:
            return []  # people reviewed the boxes and kept none
        return [(lb.name, inst.box, inst.confidence) for lb in (pred.labels if pred else ())
                if lb.confidence >= threshold for inst in lb.instances]

    def _export_a2i(self, dest: Destination, loops: list[HumanLoop], workflows: dict[str, Workflow],
                    progress: ProgressFn | None) -> ExportResult:
        by_loop: dict[str, list] = {}
        for a in self.answers.all():
            by_loop.setdefault(a.loop_id, []).append(a)
        done = [lp for lp in loops if by_loop.get(lp.loop_id)]
        predictions = {p.media_id: p for p in self.predictions.all()}
        media = {m.media_id: m for m in self.catalog.list()}
        bucket = self.config.s3_bucket or "local"
        written = 0
        for i, lp in enumerate(done):
            wf = workflows.get(lp.workflow) or Workflow(name=lp.workflow)
            item = media.get(lp.media_id)
            if item is None:
                log.warning("loop %s names media %s that is gone; skipped", lp.loop_id, lp.media_id[:12])
                continue
            doc = to_output_json(lp, wf, sorted(by_loop[lp.loop_id], key=lambda a: a.submission_time), item,
                                 predictions.get(lp.media_id), bucket=bucket)
            dest.write_text(output_path(wf.name, lp.loop_id, lp.created_at), json.dumps(doc, indent=1))
            written += 1
            if progress and (i % 200 == 0 or i + 1 == len(done)):
                progress(i + 1, len(done))
        return ExportResult(dest.target, written, written)

    def run_export_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler: `{format, out, workflow?}`."""
        result = self.export(params["format"], params["out"], workflow=params.get("workflow"),
                             progress=lambda d, t: ctx.progress(d, t, "exporting"))
        return {"destination": result.destination, "files": result.files, "items": result.items}

    # ---- import ------------------------------------------------------------------------------------
    def import_a2i(self, paths: Iterable[Path]) -> A2iImport:
        """Bring A2I output.json files in as human answers and ground truth; a bad file is named and skipped."""
        from core.catalog import expand_paths

        report = A2iImport()
        for path, name in expand_paths(paths):
            if not name.endswith(".json"):
                continue
            try:
                self._import_one(json.loads(Path(path).read_text(encoding="utf-8")))
                report.imported.append(str(path))
            except (LoupeError, ValueError, TypeError, KeyError) as exc:
                reason = str(exc) if isinstance(exc, LoupeError) else f"not valid A2I output JSON ({exc})"
                log.info("skipped %s: %s", path, reason)
                report.rejected.append((str(path), reason))
        return report

    def _import_one(self, doc: dict[str, Any]) -> None:
        parsed = parse_output_json(doc)
        item = self.catalog.find(parsed.image_name) if parsed.image_name else None
        if item is None:
            raise LoupeError(f"The image {parsed.image_name!r} of loop {parsed.loop_name} is not in the catalog; "
                             "ingest it first, then import again.")
        flow = parsed.flow_name if _valid_name(parsed.flow_name) else "imported"
        if self.workflows.version(flow) is None:
            self.workflows.save(Workflow(name=flow, task_type="moderation",
                                         task_count=max(1, min(3, len(parsed.answers))),
                                        title="Imported from A2I"))
        if parsed.labels and self.predictions.get(item.media_id) is None:
            self.predictions.save(Prediction(item.media_id, parsed.model_version or "a2i-import", parsed.labels,
                                            source="import"))
        self.loops.create(HumanLoop(parsed.loop_name, item.media_id, flow, status="Completed",
                                   activation_results=parsed.activation_results,
                                   task_count=max(1, len(parsed.answers))))
        for answer in parsed.answers:
            self.answers.submit(answer)
        self.consolidation.consolidate(item.media_id, source="import")


def _valid_name(name: str) -> bool:
    return bool(name) and len(name) <= 63 and all(c.isalnum() or c == "-" for c in name)


def _csv(rows) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for item, finals, boxes, cons in rows:
        reviewers = ";".join(cons.reviewers) if cons else ""
        base = {"media_id": item.media_id, "file_name": item.file_name, "reviewers": reviewers}
        if not finals and not boxes:
            writer.writerow({**base, "kind": "none"})
        for f in finals:
            writer.writerow({**base, "kind": "label", "label": f.name, "parent_name": f.parent_name,
                             "confidence": round(f.confidence, 4), "source": f.source})
        for name, box, conf in boxes:
            writer.writerow({**base, "kind": "box", "label": name, "confidence": round(conf, 4),
                             "source": "human" if cons and cons.boxes else "auto", "left": round(box.left, 6),
                             "top": round(box.top, 6), "width": round(box.width, 6), "height": round(box.height, 6)})
    return buf.getvalue()

