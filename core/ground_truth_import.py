"""Bring existing labels in: a SageMaker Ground Truth output manifest read as human answers.

Each line's attributes (image classification, single- and multi-label with their `-metadata` class maps, and
bounding boxes) become one label review answer on one completed human loop of a workflow, consolidated like any
review, so the labels count as ground truth for thresholds, evidence and team model training. `source-ref` may be
a local path (ingested if it is not yet), an `s3://` URI or a file name; both of the last name an ingested item by
its file name. A bad line is reported by its number and the rest go on; importing the same file again changes
nothing.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from core.access import OPEN, Access, Actor
from core.domain import Answer, HumanLoop, MediaItem, Workflow, utc_now
from core.errors import LoupeError
from core.loops import loop_id_for

log = logging.getLogger(__name__)

DEFAULT_WORKFLOW = "ground-truth"
WORKER = "ground-truth"
MAX_MANIFEST_BYTES = 200 * 1024 * 1024
CLASSIFICATION, MULTILABEL, BOXES = ("groundtruth/image-classification", "groundtruth/image-classification-multilabel",
                                     "groundtruth/object-detection")


@dataclass
class GroundTruthReport:
    workflow: str
    imported: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "imported": self.imported, "unchanged": self.unchanged,
                "errors": self.errors}


@dataclass(frozen=True)
class ManifestLabels:
    """What one manifest line says about its image: class names and boxes (pixels) per class name."""
    source_ref: str
    labels: tuple[str, ...]
    boxes: tuple[tuple[str, dict[str, float]], ...] = ()
    image_size: tuple[int, int] | None = None


def parse_line(obj: Any) -> ManifestLabels:
    """One output-manifest line's labels, from every attribute it holds; LoupeError in words if malformed."""
    if not isinstance(obj, dict):
        raise LoupeError("not a JSON object")
    ref = obj.get("source-ref")
    if not isinstance(ref, str) or not ref.strip():
        raise LoupeError("no \"source-ref\"")
    attrs = [k for k in obj if f"{k}-metadata" in obj and not k.endswith("-metadata")]
    if not attrs:
        raise LoupeError("no labeling attribute (a key with a matching \"-metadata\" object)")
    labels: list[str] = []
    boxes: list[tuple[str, dict[str, float]]] = []
    size = None
    for attr in attrs:
        value, meta = obj[attr], obj[f"{attr}-metadata"]
        if not isinstance(meta, dict):
            raise LoupeError(f"\"{attr}-metadata\" is not an object")
        kind = str(meta.get("type", ""))
        class_map = {str(k): str(v) for k, v in (meta.get("class-map") or {}).items()}
        try:
            if kind == BOXES or isinstance(value, dict):
                annotations = value.get("annotations") or []
                sizes = value.get("image_size") or []
                if sizes:
                    size = (int(sizes[0]["width"]), int(sizes[0]["height"]))
                for a in annotations:
                    name = class_map[str(a["class_id"])]
                    boxes.append((name, {k: float(a[k]) for k in ("left", "top", "width", "height")}))
                    labels.append(name)
            elif kind == MULTILABEL or isinstance(value, list):
                labels.extend(class_map[str(int(i))] for i in value)
            else:
                class_name = meta.get("class-name") or class_map.get(str(int(value)))
                if not class_name:
                    raise KeyError(str(value))
                labels.append(str(class_name))
        except KeyError as exc:
            raise LoupeError(f"attribute {attr!r}: class id {exc} is not in its class-map") from None
        except (TypeError, ValueError, AttributeError):
            raise LoupeError(f"attribute {attr!r} does not have the shape of a Ground Truth {kind or 'label'} "
                             "result") from None
    return ManifestLabels(ref.strip(), tuple(dict.fromkeys(n.strip() for n in labels if n.strip())), tuple(boxes),
                          size)


class GroundTruthImport:
    access: Access = OPEN  # the service sets its own

    def __init__(self, catalog, workflows, loops, answers, consolidation):
        self.catalog = catalog
        self.workflows = workflows
        self.loops = loops
        self.answers = answers
        self.consolidation = consolidation

    def import_file(self, path: Path, *, workflow: str | None = None, actor: Actor | None = None
                    ) -> GroundTruthReport:
        """Read a manifest file (JSON Lines). Admins only."""
        path = Path(path)
        if not path.is_file():
            raise LoupeError(f"{path} does not exist or is not a file.")
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise LoupeError(f"{path.name} is over {MAX_MANIFEST_BYTES // 1048576} MB; split it into smaller files.")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LoupeError(f"{path.name} is not UTF-8 text (byte {exc.start} can't be read).") from None
        return self.import_text(text, workflow=workflow, base_dir=path.parent, actor=actor)

    def import_text(self, text: str, *, workflow: str | None = None, base_dir: Path | None = None,
                    actor: Actor | None = None) -> GroundTruthReport:
        current = self.access.require(actor, "exports")
        name = workflow or DEFAULT_WORKFLOW
        if self.workflows.version(name) is None:
            self.workflows.save(Workflow(name=name, task_type="label_review", title="Imported from Ground Truth",
                                         description="Labels read from a Ground Truth output manifest"),
                                actor=current)
        elif self.workflows.get(name).task_type != "label_review":
            raise LoupeError(f"Workflow {name!r} is not a label review workflow; name another with --workflow.")
        report = GroundTruthReport(name)
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                parsed = parse_line(json.loads(line))
                item = self._item(parsed.source_ref, base_dir)
                changed = self._answer(name, item, parsed)
            except json.JSONDecodeError as exc:
                report.errors.append(f"line {number}: not valid JSON ({exc.msg})")
                continue
            except LoupeError as exc:
                report.errors.append(f"line {number}: {exc}")
                continue
            report.media_ids.append(item.media_id)
            if changed:
                report.imported += 1
            else:
                report.unchanged += 1
        self.access.record(current, "import", "ground truth", detail=f"{report.imported} imported into {name}, "
                           f"{len(report.errors)} lines skipped")
        return report

    def _item(self, ref: str, base_dir: Path | None) -> MediaItem:
        if ref.startswith("s3://"):
            file_name = PurePosixPath(ref[5:]).name
        else:
            local = Path(ref)
            if not local.is_absolute() and base_dir is not None and (base_dir / local).is_file():
                local = base_dir / local
            if local.is_file():
                outcome = self.catalog.ingest_file(local)
                if outcome.media_id is None:
                    raise LoupeError(f"{ref} could not be ingested: {outcome.reason}")
                return self._image(self.catalog.get(outcome.media_id), ref)
            file_name = PurePosixPath(ref).name
        item = self.catalog.find(file_name)
        if item is None:
            raise LoupeError(f"no ingested item is named {file_name!r} (ingest the images first, or give a local "
                             "path)")
        return self._image(item, ref)

    @staticmethod
    def _image(item: MediaItem, ref: str) -> MediaItem:
        if item.kind != "image":
            raise LoupeError(f"{ref} is {item.kind}, not an image")
        return item

    def _answer(self, workflow: str, item: MediaItem, parsed: ManifestLabels) -> bool:
        loop_id = loop_id_for(workflow, item.media_id)
        content = {"labels": [{"name": n, "confidence": 1.0, "source": "human"} for n in parsed.labels],
                   "boxes": _boxes(parsed, item), "isBlind": False}
        existing = [a for a in self.answers.for_loop(loop_id) if a.worker_id == WORKER]
        if existing:
            if json.dumps(existing[0].content, sort_keys=True) == json.dumps(content, sort_keys=True):
                return False
            raise LoupeError(f"{parsed.source_ref} was imported into {workflow!r} before with other labels; import "
                             "this manifest into another workflow (--workflow)")
        self.loops.create(HumanLoop(loop_id, item.media_id, workflow, status="Completed",
                                    reasons=("ground truth import",)))
        now = utc_now()
        self.answers.submit(Answer(loop_id, WORKER, content, acceptance_time=now, submission_time=now))
        self.consolidation.consolidate(item.media_id, workflow, source="import")
        try:
            self.catalog.set_status(item.media_id, "reviewed")
        except LoupeError as exc:
            log.warning("could not mark %s reviewed: %s", item.media_id[:12], exc)
        return True


def _boxes(parsed: ManifestLabels, item: MediaItem) -> list[dict[str, Any]]:
    """Pixel boxes as fractions of the image (the manifest's image_size, else the item's own size)."""
    width, height = parsed.image_size or (item.width or 0, item.height or 0)
    if not width or not height:
        return []
    out = []
    for name, b in parsed.boxes:
        left, top = max(0.0, b["left"] / width), max(0.0, b["top"] / height)
        w, h = min(b["width"] / width, 1 - left), min(b["height"] / height, 1 - top)
        if w > 0 and h > 0:
            out.append({"label": name, "left": round(left, 6), "top": round(top, 6), "width": round(w, 6),
                        "height": round(h, 6)})
    return out
