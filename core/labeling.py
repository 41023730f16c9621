"""Labeling: run a labeler over ingested images (as a background job or directly), store one current
prediction per image, and import predictions made elsewhere (Rekognition JSON, CSV, JSON Lines).

Labelers are built lazily, once per process and backend, under a lock; job threads share them.
Predictions live in `core.predictions` (record kind "prediction", key media_id); a labeled image's
media status becomes "labeled".
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import labelers
from core.access import OPEN, Access, Actor
from core.catalog import Catalog
from core.cluster import Chunk, Executor, chunk_report, is_cancel_requested, job_items, outcomes_of, run_chunks
from core.config import Config
from core.domain import Job, Label, MediaItem, Prediction
from core.errors import LoupeError, NotFound
from core.formats import rekognition as rekognition_format
from core.formats.label_table import RowError, parse_label_table
from core.jobs import Handler, JobCancelled, JobContext, JobRunner, listed_items
from core.labelers import ImageRef, Labeler
from core.models import ModelCache
from core.predictions import Predictions
from core.project_settings import ProjectSettings
from core.stores.base import S3Blobs

if TYPE_CHECKING:
    from core.learning import Learning

log = logging.getLogger(__name__)

JOB_KIND = "label"
BATCH_SIZE = 8  # images per predict() call and per bulk write of predictions
MAX_IMPORT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class LabelOutcome:
    media_id: str
    file: str
    status: str  # "labeled" | "failed"
    reason: str = ""
    prediction: Prediction | None = None

    def as_json(self) -> dict[str, Any]:
        return {"media_id": self.media_id, "file": self.file, "status": self.status, "reason": self.reason,
                "labels": len(self.prediction.labels) if self.prediction else 0}


@dataclass(frozen=True)
class PredictionImport:
    """What importing one predictions file did (Rekognition JSON, CSV or JSONL of label,confidence)."""
    file: str
    format: str  # "rekognition" | "csv" | "jsonl"
    imported: int  # media items that got a prediction
    labels: int
    errors: tuple[str, ...] = ()
    scale: str = ""
    media_ids: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "format": self.format, "imported": self.imported, "labels": self.labels,
                "errors": list(self.errors), "confidence_scale": self.scale}


class Labeling:
    access: Access = OPEN  # the service sets its own
    learning: Learning | None = None  # the service sets it: embeddings kept, team model applied
    work: Executor | None = None  # where label jobs' chunks run (core/cluster.py); the service sets it
    def __init__(self, catalog: Catalog, predictions: Predictions, jobs: JobRunner, config: Config,
                 settings: ProjectSettings, *, models: ModelCache | None = None):
        self.catalog = catalog
        self.predictions = predictions
        self.jobs = jobs
        self.config = config
        self.settings = settings  # the labeler and auto-label choice, read when labeling starts
        self.models = models or ModelCache()

    # ---- labelers ----------------------------------------------------------------------------------
    def labeler(self, backend: str | None = None) -> Labeler:
        """The process-wide labeler for a backend ("local" or "rekognition"), loaded on first use."""
        name = backend or self.settings.effective().labeler
        return self.models.get("labeler", name, lambda: labelers.create(name, self.config))

    # ---- labeling ----------------------------------------------------------------------------------
    def unlabeled_ids(self) -> list[str]:
        done = self.predictions.labeled_ids()
        return [m.media_id for m in self.catalog.list(kind="image") if m.media_id not in done]

    def label(self, media_ids: Iterable[str], *, backend: str | None = None,
              progress: Callable[[int, int, str], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None, model_version: str | None = None) -> list[LabelOutcome]:
        """Label these images now, storing each prediction; bad items are reported and the rest go on. The team
        model in use (or `model_version`, an older one) refines each prediction (core/learning.py)."""
        ids = list(dict.fromkeys(media_ids))
        backend = backend or self.settings.effective().labeler
        outcomes: list[LabelOutcome] = []
        labeler: Labeler | None = None
        for start in range(0, len(ids), BATCH_SIZE):
            if is_cancelled and is_cancelled():
                break
            refs: list[ImageRef] = []
            items: dict[str, MediaItem] = {}
            batch = ids[start:start + BATCH_SIZE]
            found = self.catalog.get_many(batch)  # one read per batch: on DynamoDB 8 key reads cost 8 round trips
            for media_id in batch:
                item = found.get(media_id)
                if item is None:
                    outcomes.append(LabelOutcome(media_id, "", "failed", "No media item has this id."))
                    continue
                if item.kind != "image":
                    outcomes.append(LabelOutcome(media_id, item.file_name, "failed",
                                                 f"This is {item.kind}, not an image; only images are labeled."))
                    continue
                try:
                    refs.append(self._ref(item, backend))
                    items[media_id] = item
                except (LoupeError, OSError) as exc:
                    outcomes.append(LabelOutcome(media_id, item.file_name, "failed",
                                                 f"The media file is missing: {exc}"))
            if refs:
                labeler = labeler or self.labeler(backend)
                results = self._with_team(labeler.predict(refs), model_version)
                good = [r for r in results if isinstance(r, Prediction)]
                self.predictions.save_many(good)
                for ref, result in zip(refs, results):
                    item = items[ref.media_id]
                    if isinstance(result, Prediction):
                        if item.status == "new":
                            self.catalog.set_status(item.media_id, "labeled")
                        outcomes.append(LabelOutcome(item.media_id, item.file_name, "labeled", "", result))
                    else:
                        log.info("could not label %s: %s", item.file_name, result)
                        outcomes.append(LabelOutcome(item.media_id, item.file_name, "failed", str(result)))
            if progress:
                last = outcomes[-1].file if outcomes else ""
                progress(len(outcomes), len(ids), last)
        return outcomes

    def _with_team(self, results: list, model_version: str | None) -> list:
        """Embeddings kept and the team model applied to the predictions among `results` (failures stay put)."""
        good = [r for r in results if isinstance(r, Prediction)]
        if self.learning is None:
            refined = {p.media_id: replace(p, embedding="") for p in good}
        else:
            refined = {p.media_id: p for p in self.learning.absorb(good, model_version=model_version)}
        return [refined[r.media_id] if isinstance(r, Prediction) else r for r in results]

    def _ref(self, item: MediaItem, backend: str) -> ImageRef:
        blobs = self.catalog.blobs
        if backend == "rekognition" and isinstance(blobs, S3Blobs) and blobs.bucket:
            return ImageRef(item.media_id, s3_bucket=blobs.bucket, s3_key=blobs.prefix + item.media_id)
        return ImageRef(item.media_id, path=self.catalog.media_path(item.media_id))

    def submit(self, media_ids: Iterable[str] | None = None, *, backend: str | None = None,
               created_by: str = "", actor: Actor | None = None, model_version: str | None = None) -> Job:
        """Label in a background job: these images, or (None) every image without a prediction yet. Admins only."""
        current = self.access.require(actor, "media")
        return self._submit(media_ids, backend=backend, created_by=created_by if current.is_local else current.id,
                            model_version=model_version)

    def _submit(self, media_ids: Iterable[str] | None, *, backend: str | None, created_by: str,
                model_version: str | None = None) -> Job:
        params: dict[str, Any] = {"backend": backend or self.settings.effective().labeler, "created_by": created_by}
        if model_version:
            params["model_version"] = model_version
        items = None if media_ids is None else list(media_ids)  # a long list goes to item pages, not the params
        return self.jobs.submit(JOB_KIND, params, created_by=created_by, items=items)

    def run_label_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler for "label": the images in chunks of LOUPE_DASK_CHUNK_IMAGES, each labeled where it lands
        (a Dask worker, or this process with LOUPE_DASK=off); chunks done before a restart are not run again."""
        ids = listed_items(self.jobs.records, ctx.job.job_id, params)
        if ids is None:  # "every unlabeled image" is fixed when the job first runs: a resumed job has the same chunks
            ids = job_items(ctx, self.jobs.records, self.unlabeled_ids)
        ctx.progress(0, len(ids), "loading the labeler" if ids else "nothing to label")
        outcomes = self.label_in_chunks(ctx, ids, backend=params.get("backend"),
                                        model_version=params.get("model_version"))
        failed = [o for o in outcomes if o["status"] == "failed"]
        return {"labeled": len(outcomes) - len(failed), "failed": len(failed), "outcomes": outcomes[:500],
                "chunks": chunk_report(self.jobs.records, ctx.job.job_id)}

    def label_in_chunks(self, ctx: JobContext, ids: list[str], *, backend: str | None = None,
                        model_version: str | None = None, prefix: str = "") -> list[dict[str, Any]]:
        """Label these images as chunks of a job (index prefix: several steps of one job), each where it lands;
        the outcomes as dicts (LabelOutcome.as_json), in order."""
        backend = backend or self.settings.effective().labeler
        size = self.config.dask_chunk_images
        chunk = {"backend": backend, "model_version": model_version}
        chunks = [Chunk(f"{prefix}{n:05d}", {**chunk, "ids": ids[s:s + size]}, len(ids[s:s + size]))
                  for n, s in enumerate(range(0, len(ids), size))]
        return outcomes_of(run_chunks(ctx, self.work, self.jobs.records, JOB_KIND, chunks))

    def label_chunk(self, job_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One chunk of a label job, where it runs: label the images and store their predictions (one per image,
        so running it again writes the same records), stopping between batches if the job was cancelled."""
        records = self.jobs.records
        outcomes = self.label(payload["ids"], backend=payload.get("backend"),
                              is_cancelled=lambda: is_cancel_requested(records, job_id),
                              model_version=payload.get("model_version"))
        if len(outcomes) < len(payload["ids"]) and is_cancel_requested(records, job_id):
            raise JobCancelled()
        return {"outcomes": [o.as_json() for o in outcomes]}

    def label_after(self, ingest_handler: Handler) -> Handler:
        """Wrap the ingest job handler so that, with auto-label on (Settings or LOUPE_AUTO_LABEL), new images are
        labeled next."""
        def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
            result = ingest_handler(ctx, params)
            job = self.after_ingest(result, created_by=params.get("created_by", ""))
            return {**result, "label_job_id": job.job_id} if job else result
        return run

    def after_ingest(self, ingest_result: dict[str, Any], *, created_by: str = "") -> Job | None:
        """With auto-label on (Settings or LOUPE_AUTO_LABEL), label the images an ingest job just added."""
        if not self.settings.effective().auto_label:
            return None
        ids = [o["media_id"] for o in ingest_result.get("outcomes", [])
               if o.get("status") == "ingested" and o.get("media_id")]
        images = [i for i in ids if self._is_image(i)]
        return self._submit(images, backend=None, created_by=created_by) if images else None

    def _is_image(self, media_id: str) -> bool:
        try:
            return self.catalog.get(media_id).kind == "image"
        except NotFound:
            return False

    # ---- imports -----------------------------------------------------------------------------------
    def import_file(self, path: Path, *, actor: Actor | None = None) -> PredictionImport:
        self.access.require(actor, "media")
        path = Path(path)
        if not path.is_file():
            raise LoupeError(f"{path} does not exist or is not a file.")
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise LoupeError(f"{path.name} is over {MAX_IMPORT_BYTES // 1048576} MB; split it into smaller files.")
        return self.import_bytes(path.name, path.read_bytes(), actor=actor)

    def import_bytes(self, file_name: str, data: bytes, *, actor: Actor | None = None) -> PredictionImport:
        """Import a Rekognition response JSON, or a CSV / JSON Lines table of media,label,confidence[,parent].
        Admins only."""
        current = self.access.require(actor, "media")
        result = self._import_bytes(file_name, data)
        self.access.record(current, "media", file_name, detail="predictions imported")
        return result

    def _import_bytes(self, file_name: str, data: bytes) -> PredictionImport:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LoupeError(f"{file_name} is not UTF-8 text (byte {exc.start} can't be read).") from exc
        stripped = text.strip()
        if stripped.startswith("{") and "\n{" not in stripped:
            try:
                whole = json.loads(stripped)
            except json.JSONDecodeError:
                whole = None
            if rekognition_format.looks_like_rekognition(whole):
                return self._import_rekognition(file_name, whole)
        first_line = stripped.split("\n", 1)[0]
        if stripped.startswith("{") and rekognition_format.looks_like_rekognition(_json_or_none(first_line)):
            return self._import_response_lines(file_name, text)
        if stripped.startswith("["):
            raise LoupeError(f"{file_name} is a JSON array; give JSON Lines (one object per line) instead.")
        return self._import_table(file_name, text)

    def _import_rekognition(self, file_name: str, data: dict[str, Any]) -> PredictionImport:
        media_ref = str(data.get("media_id") or data.get("file") or data.get("media") or Path(file_name).stem)
        matches = self.catalog.match([media_ref, Path(file_name).stem])
        item = matches[media_ref].item or matches[Path(file_name).stem].item
        if item is None:
            why = matches[media_ref].problem
            return PredictionImport(file_name, "rekognition", 0, 0, (
                f"no media item matches {media_ref!r}: name the response file after the image "
                "(photo.jpg.json or photo.json) or add a \"media_id\" field" if why == "not found" else
                f"{media_ref!r} {why}: add a \"media_id\" field",))
        prediction = rekognition_format.parse_response(data, item.media_id, source="import",
                                                       model_version=f"import:{file_name}")
        self._store_imported([prediction], {item.media_id: item})
        return PredictionImport(file_name, "rekognition", 1, len(prediction.labels), (), "0-100", (item.media_id,))

    def _import_response_lines(self, file_name: str, text: str) -> PredictionImport:
        """JSON Lines of responses, each naming its image (`media_id` or `file`), as `label --json` writes."""
        responses: list[tuple[int, str, dict[str, Any]]] = []
        errors: list[str] = []
        for line, chunk in enumerate(text.splitlines(), start=1):
            if not chunk.strip():
                continue
            obj = _json_or_none(chunk)
            if not rekognition_format.looks_like_rekognition(obj):
                errors.append(f"line {line}: not a Rekognition response object")
                continue
            responses.append((line, str(obj.get("media_id") or obj.get("file") or obj.get("media") or ""), obj))
        matches = self.catalog.match(ref for _, ref, _ in responses)
        predictions: dict[str, Prediction] = {}
        items: dict[str, MediaItem] = {}
        for line, ref, obj in responses:
            match = matches[ref]
            if match.item is None:
                errors.append(f"line {line}: no media item matches {ref!r} (give media_id or file)"
                              if match.problem == "not found" else
                              f"line {line}: {ref!r} {match.problem} (give media_id or the full file name)")
                continue
            items[match.item.media_id] = match.item
            predictions[match.item.media_id] = rekognition_format.parse_response(
                obj, match.item.media_id, source="import", model_version=f"import:{file_name}")
        self._store_imported(list(predictions.values()), items)
        errors.sort(key=lambda e: int(e.split(":", 1)[0].removeprefix("line ")))
        return PredictionImport(file_name, "rekognition", len(predictions),
                                sum(len(p.labels) for p in predictions.values()),
                                tuple(errors), "0-100", tuple(predictions))

    def _import_table(self, file_name: str, text: str) -> PredictionImport:
        table = parse_label_table(text, file_name=file_name)
        kind = "jsonl" if text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"
        errors: list[RowError] = list(table.errors)
        matches = self.catalog.match(row.media for row in table.rows)
        by_media: dict[str, list[Label]] = {}
        items: dict[str, MediaItem] = {}
        for row in table.rows:
            match = matches[row.media]
            if match.item is None:
                errors.append(RowError(row.line, f"no media item is named {row.media!r} (use a file name or media id)"
                                       if match.problem == "not found" else
                                       f"{row.media!r} {match.problem} (use the full file name or the media id)"))
                continue
            if row.category == "moderation":
                label = Label(name=row.label, confidence=row.confidence, category="moderation", parent_name=row.parent,
                              taxonomy_level=2 if row.parent else 1)
            else:
                label = Label(name=row.label, confidence=row.confidence, parents=(row.parent,) if row.parent else ())
            items[match.item.media_id] = match.item
            by_media.setdefault(match.item.media_id, []).append(label)
        predictions = [Prediction(media_id=m, model_version=f"import:{file_name}", labels=tuple(lbs), source="import")
                       for m, lbs in by_media.items()]
        self._store_imported(predictions, items)
        errors.sort(key=lambda e: e.line)
        return PredictionImport(file_name, kind, len(predictions), sum(len(p.labels) for p in predictions),
                                tuple(str(e) for e in errors), table.scale, tuple(by_media))

    def _store_imported(self, predictions: list[Prediction], items: dict[str, MediaItem]) -> None:
        """Save, then mark the items that were new as labeled (their status was read when they were looked up)."""
        self.predictions.save_many(predictions)
        self.catalog.set_statuses([p.media_id for p in predictions if items[p.media_id].status == "new"], "labeled")


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
