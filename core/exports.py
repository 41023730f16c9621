"""Exports of reviewed results (Ground Truth manifest, A2I output.json per loop, CSV) to a folder or an S3 prefix,
and the import of A2I output.json files as ground truth.

Every file is written through core/destinations.py, which keeps it inside its destination and never replaces a file
without the `overwrite` choice. The app exports under the configured exports root or S3 prefix only; the command
line writes where its operator says. An import names loops and flow definitions by A2I's own pattern, and never
writes into a loop that exists here already (a live one, or one with other answers): it is refused in words.

An item's labels are its final labels: consolidated human answers where people reviewed it, the model's labels
at or above the workflow's threshold elsewhere. Exports run synchronously from the CLI and as a background job
("export") from the app.
"""
from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.access import OPEN, Access, Actor, job_actor
from core.answers import Answers
from core.catalog import Catalog, MediaMatch
from core.config import Config
from core.consolidation import Consolidated, Consolidation, FinalLabel, final_labels, label_category
from core.destinations import Destination, app_destination, operator_destination
from core.domain import Answer, HumanLoop, Job, MediaItem, Prediction, Workflow
from core.errors import LoupeError, NotFound
from core.formats.a2i import check_a2i_name, check_object_name, output_path, parse_output_json, to_output_json
from core.formats.ground_truth import manifest_line
from core.formats.spreadsheet import to_csv
from core.jobs import JobContext, JobRunner
from core.loops import Loops, loop_id_for
from core.predictions import Predictions
from core.routing_policy import DEFAULT_THRESHOLD
from core.stores.base import S3Blobs
from core.task_types import task_type_of
from core.workflows import Workflows

log = logging.getLogger(__name__)

JOB_KIND = "export"
FORMATS = ("gt-manifest", "a2i", "csv")
CSV_COLUMNS = ["media_id", "file_name", "kind", "label", "parent_name", "confidence", "source", "reviewers",
               "left", "top", "width", "height", "workflow"]
ProgressFn = Callable[[int, int], None]
MEDIA_FOLDER = "images"  # beside output.manifest: the media its source-refs name, on a store without S3 media


@dataclass(frozen=True)
class ExportResult:
    destination: str
    files: int
    items: int


DOWNLOAD_MIME = {"gt-manifest": "application/jsonlines", "csv": "text/csv", "a2i": "application/zip"}


def download_name(fmt: str, workflow: str | None) -> str:
    """The file name a browser download of this export gets (the A2I tree comes as one zip)."""
    stem = f"loupe-{workflow or 'all-workflows'}"
    return {"gt-manifest": f"{stem}-output.manifest", "csv": f"{stem}-labels.csv", "a2i": f"{stem}-a2i-output.zip"}[fmt]


@dataclass(frozen=True)
class Download:
    """An export rendered for the browser: a file name, its bytes and their MIME type."""
    file_name: str
    data: bytes
    mime: str


@dataclass(frozen=True)
class Row:
    """One exported (item, result): its final labels and boxes, the result (None: nobody reviewed it) and workflow."""
    item: MediaItem
    finals: list[FinalLabel]
    boxes: list[tuple[str, Any, float]]
    cons: Consolidated | None
    workflow: str


@dataclass(frozen=True)
class A2iImport:
    """What importing A2I output.json files did: the loops brought in, and each file refused with its reason."""
    imported: list[str] = field(default_factory=list)  # loop names
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


class Exports:
    access: Access = OPEN  # the service sets its own
    def __init__(self, workflows: Workflows, loops: Loops, answers: Answers, predictions: Predictions,
                 consolidation: Consolidation, catalog: Catalog, jobs: JobRunner, config: Config):
        self.workflows = workflows
        self.loops = loops
        self.answers = answers
        self.predictions = predictions
        self.consolidation = consolidation
        self.catalog = catalog
        self.jobs = jobs
        self.config = config  # the S3 bucket of A2I output

    def submit(self, fmt: str, folder: str = "", *, to_s3: bool = False, overwrite: bool = False,
               workflow: str | None = None, created_by: str = "", actor: Actor | None = None) -> Job:
        """Export in the background (the "export" job) to `folder` under the exports root (or under the configured
        S3 prefix with `to_s3`); the job's result names the destination and counts. The folder is checked now, so a
        bad name is refused before anything is queued. Admins only."""
        current = self.access.require(actor, "exports")
        created_by = created_by if current.is_local else current.id
        app_destination(self.config, folder, to_s3=to_s3)
        if fmt not in FORMATS:
            raise LoupeError(f"Export format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
        job = self.jobs.submit(JOB_KIND, {"format": fmt, "folder": folder, "to_s3": to_s3, "overwrite": overwrite,
                                          "workflow": workflow}, created_by=created_by)
        self.access.record(current, "export", workflow or "all workflows",
                           detail=f"{fmt} to {'s3 ' if to_s3 else ''}{folder or 'exports folder'}, job {job.job_id}")
        return job

    # ---- export ------------------------------------------------------------------------------------
    def export(self, fmt: str, out: str | Destination, *, workflow: str | None = None, attribute: str = "labels",
               source_prefix: str = "", overwrite: bool = False, progress: ProgressFn | None = None,
               actor: Actor | None = None) -> ExportResult:
        """Export to `out`: a Destination, or a folder or s3://bucket/prefix named by the operator (the CLI's
        --out). A file already there is replaced only with `overwrite`. Admins only."""
        current = self.access.require(actor, "exports")
        result = self._export(fmt, out, workflow=workflow, attribute=attribute, source_prefix=source_prefix,
                              overwrite=overwrite, progress=progress)
        if current.source != "system":  # a job's export was audited when it was submitted
            self.access.record(current, "export", workflow or "all workflows",
                               detail=f"{fmt} to {result.destination}: {result.items} items")
        return result

    def _export(self, fmt: str, out: str | Destination, *, workflow: str | None, attribute: str, source_prefix: str,
                overwrite: bool, progress: ProgressFn | None) -> ExportResult:
        self._check(fmt, workflow)
        dest = out if isinstance(out, Destination) else operator_destination(out)
        if fmt == "a2i":
            files = dict(self.a2i_files(workflow, progress=progress))
            dest.write_files(files, overwrite=overwrite)  # each path is checked to stay inside the destination
            return ExportResult(dest.label, len(files), len(files))
        rows = self._rows(workflow, progress, one_per_item=fmt == "gt-manifest")
        if fmt == "csv":
            (where,) = dest.write_files({"labels.csv": _csv(rows)}, overwrite=overwrite)
            return ExportResult(where, 1, len(rows))
        refs, media = self._source_refs([r.item for r in rows], source_prefix, dest)
        written = dest.write_files({"output.manifest": self._manifest(rows, attribute, refs), **media},
                                   overwrite=overwrite)
        return ExportResult(written[0], len(written), len(rows))

    def render(self, fmt: str, *, workflow: str | None = None, attribute: str = "labels", source_prefix: str = "",
               actor: Actor | None = None) -> Download:
        """One export as a file to download (the A2I tree as a zip), written nowhere on the server. Admins only, as
        every export."""
        self.access.require(actor, "exports")
        self._check(fmt, workflow)
        name, mime = download_name(fmt, workflow), DOWNLOAD_MIME[fmt]
        if fmt == "csv":
            return Download(name, _csv(self._rows(workflow, None)).encode(), mime)
        if fmt == "gt-manifest":
            rows = self._rows(workflow, None, one_per_item=True)
            refs, _ = self._source_refs([r.item for r in rows], source_prefix, None)
            return Download(name, self._manifest(rows, attribute, refs).encode(), mime)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, text in self.a2i_files(workflow):
                zf.writestr(rel, text)
        return Download(name, buf.getvalue(), mime)

    def _check(self, fmt: str, workflow: str | None) -> None:
        if fmt not in FORMATS:
            raise LoupeError(f"Export format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
        if workflow is not None and self.workflows.version(workflow) is None:
            raise LoupeError(f"There is no workflow named {workflow!r}.")

    def _rows(self, workflow: str | None, progress: ProgressFn | None, *, one_per_item: bool = False) -> list[Row]:
        """The final labels to export. With a workflow: that workflow's items, each with its result there (or the
        model's labels at its threshold while unreviewed). Without: one row per (workflow, item) result, plus the
        model's labels on items nobody reviewed; `one_per_item` keeps only an item's newest result (a manifest has
        one line per image)."""
        workflows = {wf.name: wf for wf in self.workflows.list()}
        media = {m.media_id: m for m in self.catalog.list(kind="image")}
        predictions = {p.media_id: p for p in self.predictions.all()}
        results: dict[str, list] = {}
        for c in self.consolidation.all(workflow):
            results.setdefault(c.media_id, []).append(c)
        loop_wf = {lp.media_id: lp.workflow for lp in self.loops.list(workflow)}
        ids = sorted(loop_wf) if workflow is not None else sorted(set(predictions) | set(results))
        ids = [m for m in ids if m in media]
        rows: list[Row] = []
        for i, media_id in enumerate(ids):
            found = sorted(results.get(media_id, []), key=lambda c: c.updated_at, reverse=True)
            if one_per_item:
                found = found[:1]
            for cons in found or [None]:
                wf = workflows.get(cons.workflow if cons else loop_wf.get(media_id, ""))
                threshold = wf.routing.accept_at if wf else DEFAULT_THRESHOLD
                pred = predictions.get(media_id)
                task_type = cons.task_type if cons else (wf.task_type if wf else "")
                rows.append(Row(media[media_id], final_labels(pred, cons, threshold, task_type=task_type),
                                self._boxes(pred, cons, threshold, label_category(task_type)), cons,
                                cons.workflow if cons else (workflow or "")))
            if progress and (i % 500 == 0 or i + 1 == len(ids)):
                progress(i + 1, len(ids))
        return rows

    def _manifest(self, rows: list[Row], attribute: str, refs: dict[str, str]) -> str:
        names = sorted({f.name for r in rows for f in r.finals} | {b[0] for r in rows for b in r.boxes})
        class_ids = {n: i for i, n in enumerate(names)}
        lines = []
        for r in rows:
            item, cons = r.item, r.cons
            size = (item.width, item.height) if item.width and item.height else None
            lines.append(json.dumps(manifest_line(
                refs[item.media_id], attribute, [(f.name, f.confidence) for f in r.finals], class_ids,
                is_human=any(f.source == "human" for f in r.finals) or cons is not None,
                created_at=cons.updated_at if cons else "", boxes=r.boxes, image_size=size)))
        return "\n".join(lines) + ("\n" if lines else "")

    @property
    def media_bucket(self) -> str:
        """`s3://bucket/prefix/` of the media store when it is in S3 (a manifest's source-refs are its objects),
        else ""."""
        blobs = self.catalog.blobs
        return f"s3://{blobs.bucket}/{blobs.prefix}" if isinstance(blobs, S3Blobs) else ""

    def _source_refs(self, items: list[MediaItem], source_prefix: str, dest: Destination | None
                     ) -> tuple[dict[str, str], dict[str, Path]]:
        """Each item's manifest `source-ref` (by media id), and the media files to write beside the manifest.

        `source_prefix` given: that prefix and the file name. Media in S3: the item's own object,
        s3://bucket/media/<sha256>. Media on this server: `images/<file name>`, relative to the manifest, and the
        file is exported there too (to an S3 destination, the manifest names the copy by its s3:// URI, as Ground
        Truth needs). A download (`dest` None) writes nothing beside it: the relative path says where to put the
        images. Never the server's own path of a file."""
        if source_prefix:
            return {i.media_id: f"{source_prefix.rstrip('/')}/{i.file_name}" for i in items}, {}
        if bucket := self.media_bucket:
            return {i.media_id: f"{bucket}{i.media_id}" for i in items}, {}
        refs: dict[str, str] = {}
        media: dict[str, Path] = {}
        for item in items:
            rel = f"{MEDIA_FOLDER}/{item.file_name}"
            if dest is None:
                refs[item.media_id] = rel
                continue
            try:
                media[rel] = self.catalog.media_path(item.media_id)
            except LoupeError:
                log.warning("media file of %s is missing; its source-ref is its name and no copy is exported",
                            item.file_name)
                refs[item.media_id] = item.file_name
                continue
            key = f"{dest.prefix}/{rel}" if dest.prefix else rel
            refs[item.media_id] = f"s3://{dest.bucket}/{key}" if dest.is_s3 else rel
        return refs, media

    @staticmethod
    def _boxes(pred: Prediction | None, cons, threshold: float, category: str | None) -> list[tuple[str, Any, float]]:
        if cons is not None and cons.boxes:
            return [(b.label, b.box, b.confidence) for b in cons.boxes]
        if cons is not None and task_type_of(cons.task_type).reviews_boxes:
            return []  # people reviewed the boxes and kept none
        return [(lb.name, inst.box, inst.confidence) for lb in (pred.labels if pred else ())
                if lb.confidence >= threshold and category in (None, lb.category) for inst in lb.instances]

    def a2i_files(self, workflow: str | None, *, progress: ProgressFn | None = None) -> Iterator[tuple[str, str]]:
        """(path in A2I's output layout, output.json text) of every answered loop (of the workflow)."""
        workflows = {wf.name: wf for wf in self.workflows.list()}
        by_loop: dict[str, list] = {}
        for a in self.answers.all():
            by_loop.setdefault(a.loop_id, []).append(a)
        done = [lp for lp in self.loops.list(workflow) if by_loop.get(lp.loop_id)]
        predictions = {p.media_id: p for p in self.predictions.all()}
        media = {m.media_id: m for m in self.catalog.list()}
        bucket = self.config.s3_bucket or "local"
        for i, lp in enumerate(done):
            wf = workflows.get(lp.workflow) or Workflow(name=lp.workflow)
            item = media.get(lp.media_id)
            if item is None:
                log.warning("loop %s names media %s that is gone; skipped", lp.loop_id, lp.media_id[:12])
                continue
            doc = to_output_json(lp, wf, sorted(by_loop[lp.loop_id], key=lambda a: a.submission_time), item,
                                 predictions.get(lp.media_id), bucket=bucket)
            yield output_path(wf.name, lp.loop_id, lp.created_at), json.dumps(doc, indent=1)
            if progress and (i % 200 == 0 or i + 1 == len(done)):
                progress(i + 1, len(done))

    def run_export_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler: `{format, folder, to_s3, overwrite, workflow?}`; it writes only under the configured exports
        root or S3 prefix, whatever the params say."""
        if "out" in params and "folder" not in params:
            raise LoupeError("This export was queued with a free destination path, which is no longer allowed. "
                             "Export again from the Results page: exports go under the exports folder.")
        dest = app_destination(self.config, params.get("folder", ""), to_s3=bool(params.get("to_s3")))
        result = self.export(params["format"], dest, workflow=params.get("workflow"),
                             overwrite=bool(params.get("overwrite")),
                             progress=lambda d, t: ctx.progress(d, t, "exporting"), actor=job_actor(ctx.job.created_by))
        return {"destination": result.destination, "files": result.files, "items": result.items}

    # ---- import ------------------------------------------------------------------------------------
    def import_a2i(self, paths: Iterable[Path], *, actor: Actor | None = None) -> A2iImport:
        """Bring A2I output.json files in as human answers and ground truth; a bad file is named and skipped.
        Admins only."""
        from core.catalog import expand_paths

        current = self.access.require(actor, "exports")

        report = A2iImport()
        parsed: list[tuple[str, Any]] = []  # (file, its parsed output, or the reason it can't be read)
        for path, name in expand_paths(paths):
            if not name.endswith(".json"):
                continue
            try:
                parsed.append((str(path), parse_output_json(json.loads(Path(path).read_text(encoding="utf-8")))))
            except (LoupeError, ValueError, TypeError, KeyError) as exc:
                parsed.append((str(path), _why_rejected(exc)))
        images = self.catalog.match((o.image_name for _, o in parsed if not isinstance(o, str) and o.image_name),
                                    by_stem=False)  # one pass over the catalog for every file's image
        for file, output in parsed:
            try:
                if isinstance(output, str):
                    raise LoupeError(output)
                self._import_one(output, current, images)
                report.imported.append(file)
            except (LoupeError, ValueError, TypeError, KeyError) as exc:
                reason = _why_rejected(exc)
                log.info("skipped %s: %s", file, reason)
                report.rejected.append((file, reason))
        self.access.record(current, "import", "a2i", detail=f"{len(report.imported)} imported, "
                           f"{len(report.rejected)} rejected")
        return report

    def _import_one(self, parsed: Any, actor: Actor, images: dict[str, MediaMatch]) -> None:
        check_a2i_name(parsed.loop_name, "The humanLoopName")
        flow = check_a2i_name(parsed.flow_name, "The flow definition name") if parsed.flow_name else "imported"
        check_object_name(parsed.image_name or "-")
        match = images.get(parsed.image_name) if parsed.image_name else None
        item = match.item if match else None
        if item is None:
            raise LoupeError(f"The image {parsed.image_name!r} of loop {parsed.loop_name} is not in the catalog; "
                             "ingest it first, then import again." if match is None or match.problem == "not found"
                             else f"The image {parsed.image_name!r} of loop {parsed.loop_name} {match.problem}; "
                             "rename one of them, then import again.")
        loop_id = self._import_loop_id(parsed.loop_name, flow, item.media_id)
        if self._is_already_imported(parsed, loop_id, item.media_id):
            return
        if self.workflows.version(flow) is None:
            self.workflows.save(Workflow(name=flow, task_type=_task_type_of_answers(parsed.answers),
                                         task_count=max(1, min(3, len(parsed.answers))),
                                         title="Imported from A2I"), actor=actor)
        if parsed.labels and self.predictions.get(item.media_id) is None:
            self.predictions.save(Prediction(item.media_id, parsed.model_version or "a2i-import", parsed.labels,
                                            source="import"))
        if not self.loops.create(HumanLoop(loop_id, item.media_id, flow, status="Completed",
                                           activation_results=parsed.activation_results,
                                           task_count=max(1, len(parsed.answers)))):
            self._refuse_existing(loop_id)  # created meanwhile
        for answer in parsed.answers:
            self.answers.submit(replace(answer, loop_id=loop_id))
        self.consolidation.consolidate(item.media_id, flow, source="import")

    def _import_loop_id(self, loop_name: str, flow: str, media_id: str) -> str:
        """The loop's own name, unless a loop of that name holds another flow's or another image's answers: then a
        name derived from both, the same on every import of this file, so each flow definition keeps its answers."""
        try:
            existing = self.loops.get(loop_name)
        except NotFound:
            return loop_name
        if existing.workflow == flow and existing.media_id == media_id:
            return loop_name
        return loop_id_for(flow, f"{loop_name}\x00{media_id}")

    def _is_already_imported(self, parsed, loop_id: str, media_id: str) -> bool:
        """True if this very output was imported before (same loop, item and answers): importing it again changes
        nothing. Any other loop of that name is refused: an import never writes into a loop that exists here."""
        try:
            existing = self.loops.get(loop_id)
        except LoupeError:
            return False
        stored = {(a.worker_id, json.dumps(a.content, sort_keys=True)) for a in self.answers.for_loop(existing.loop_id)}
        given = {(a.worker_id, json.dumps(a.content, sort_keys=True)) for a in parsed.answers}
        if existing.status == "Completed" and existing.media_id == media_id and stored == given:
            return True
        self._refuse_existing(loop_id, existing)
        return False

    def _refuse_existing(self, loop_name: str, existing: HumanLoop | None = None) -> None:
        state = f" ({existing.status}, workflow {existing.workflow})" if existing else ""
        raise LoupeError(f"A human loop named {loop_name} already exists here{state}. An import never writes into an "
                         "existing loop, so its answers were not recorded; import it under another humanLoopName.")


def _why_rejected(exc: Exception) -> str:
    return str(exc) if isinstance(exc, LoupeError) else f"not valid A2I output JSON ({exc})"


def _csv(rows) -> str:
    out = []
    for row in rows:
        item, finals, boxes, cons = row.item, row.finals, row.boxes, row.cons
        reviewers = ";".join(cons.reviewers) if cons else ""
        base = {"media_id": item.media_id, "file_name": item.file_name, "reviewers": reviewers,
                "workflow": row.workflow}
        if not finals and not boxes:
            out.append({**base, "kind": "none"})
        for f in finals:
            out.append({**base, "kind": "label", "label": f.name, "parent_name": f.parent_name,
                        "confidence": round(f.confidence, 4), "source": f.source})
        for name, box, conf in boxes:
            out.append({**base, "kind": "box", "label": name, "confidence": round(conf, 4),
                        "source": "human" if cons and cons.boxes else "auto", "left": round(box.left, 6),
                        "top": round(box.top, 6), "width": round(box.width, 6), "height": round(box.height, 6)})
    return to_csv(CSV_COLUMNS, out)


def _task_type_of_answers(answers: Iterable[Answer]) -> str:
    """The task type whose answerContent these are (A2I's moderation task unless they hold labels or a transcript)."""
    keys = {k for a in answers for k in a.content}
    if "transcript" in keys:
        return "transcript_review"
    return "label_review" if "labels" in keys else "moderation"
