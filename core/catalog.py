"""The media catalog: ingest files into the store (validated, content-addressed) and look them up."""
from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import Config
from core.domain import MEDIA_KINDS, MEDIA_STATUSES, MediaItem, as_dict, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError, MediaRejected, NotFound
from core.media import probe, safe_file_name, sha256_file
from core.stores.base import BlobStore, RecordStore, update_record

log = logging.getLogger(__name__)

KIND = "media"


@dataclass(frozen=True)
class IngestOutcome:
    file: str
    status: str  # "ingested" | "duplicate" | "rejected"
    media_id: str | None = None
    reason: str | None = None
    kind: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "media_id": self.media_id, "reason": self.reason}


ProgressFn = Callable[[int, int], None]


class Catalog:
    def __init__(self, records: RecordStore, blobs: BlobStore, config: Config):
        self.records = records
        self.blobs = blobs
        self.config = config
        self.staging_dir = config.data_dir / "staging"

    # ---- ingest -------------------------------------------------------------------------------------
    def ingest_file(self, path: Path, *, name: str | None = None, created_by: str = "") -> IngestOutcome:
        """Validate one file and store it once by content hash. Never raises for bad input."""
        display = safe_file_name(name or Path(path).name)
        try:
            if not Path(path).is_file():
                raise MediaRejected("The file does not exist or is not a regular file.")
            media_id = sha256_file(path)
            if self.records.get(KIND, media_id) is not None:
                return IngestOutcome(display, "duplicate", media_id, "Already present: the same content was uploaded before.")
            info = probe(path, max_bytes=self.config.max_upload_bytes, max_pixels=self.config.max_image_pixels)
            self.blobs.put_file(media_id, Path(path))
            item = MediaItem(
                media_id=media_id, kind=info.kind, file_name=display, size_bytes=Path(path).stat().st_size,
                format=info.format, width=info.width, height=info.height, duration_s=info.duration_s,
                codecs=info.codecs, status="new", created_at=utc_now(), created_by=created_by,
            )
            try:
                self.records.create(KIND, media_id, as_dict(item), parent=info.kind)
            except AlreadyExists:
                return IngestOutcome(display, "duplicate", media_id, "Already present: the same content was uploaded before.")
            log.info("ingested %s as %s %s", display, info.kind, media_id[:12])
            return IngestOutcome(display, "ingested", media_id, None, info.kind)
        except MediaRejected as exc:
            log.info("rejected %s: %s", display, exc)
            return IngestOutcome(display, "rejected", None, str(exc))
        except OSError as exc:
            log.exception("could not read %s", display)
            return IngestOutcome(display, "rejected", None, f"The file could not be read: {exc.strerror or exc}.")

    def ingest_bytes(self, name: str, data: bytes, *, created_by: str = "") -> IngestOutcome:
        path = self.stage_bytes(name, data)
        try:
            return self.ingest_file(path, name=name, created_by=created_by)
        finally:
            path.unlink(missing_ok=True)

    def stage_bytes(self, name: str, data: bytes) -> Path:
        """Keep an upload on disk so a background job (or a restart) can ingest it."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.staging_dir, prefix=f"{uuid.uuid4().hex}-", suffix=".upload")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return Path(tmp)

    def ingest_paths(self, paths: Iterable[Path], *, created_by: str = "",
                     progress: ProgressFn | None = None) -> list[IngestOutcome]:
        files = list(expand_paths(paths))
        outcomes = []
        for i, (path, name) in enumerate(files):
            outcomes.append(self.ingest_file(path, name=name, created_by=created_by))
            if progress:
                progress(i + 1, len(files))
        return outcomes

    def run_ingest_job(self, ctx, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler: ingest staged uploads (`files: [[path, name], ...]`), deleting each once done."""
        files = [(Path(p), n) for p, n in params["files"]]
        outcomes = []
        ctx.progress(0, len(files))
        for i, (path, name) in enumerate(files):
            if ctx.is_cancelled():
                break
            if path.exists():
                outcomes.append(self.ingest_file(path, name=name, created_by=params.get("created_by", "")))
            else:
                outcomes.append(IngestOutcome(safe_file_name(name), "rejected", None,
                                              "The uploaded file was lost before it could be ingested; upload it again."))
            if params.get("staged"):
                path.unlink(missing_ok=True)
            ctx.progress(i + 1, len(files), f"{name}")
        return {"outcomes": [o.as_json() for o in outcomes], "counts": dict(Counter(o.status for o in outcomes))}

    # ---- lookup -------------------------------------------------------------------------------------
    def get(self, media_id: str) -> MediaItem:
        rec = self.records.get(KIND, media_id)
        if rec is None:
            raise NotFound(KIND, media_id)
        return from_dict(MediaItem, rec.body)

    def list(self, kind: str | None = None, status: str | None = None) -> list[MediaItem]:
        items = [from_dict(MediaItem, r.body) for r in self.records.query(KIND, parent=kind)]
        return [i for i in items if status is None or i.status == status]

    def find(self, name_or_id: str) -> MediaItem | None:
        """A media item by id, id prefix (12+ chars) or file name."""
        rec = self.records.get(KIND, name_or_id)
        if rec:
            return from_dict(MediaItem, rec.body)
        for item in self.list():
            if item.file_name == name_or_id or (len(name_or_id) >= 12 and item.media_id.startswith(name_or_id)):
                return item
        return None

    def set_status(self, media_id: str, status: str) -> MediaItem:
        """Status is set by the system, so a concurrent change is simply retried on the newer version."""
        if status not in MEDIA_STATUSES:
            raise LoupeError(f"Unknown media status {status!r}.")
        body = update_record(self.records, KIND, media_id, lambda b: {**b, "status": status}, what="media item")
        return from_dict(MediaItem, body)

    def counts(self) -> dict[str, Any]:
        items = self.list()
        return {
            "total": len(items),
            "by_kind": {k: sum(1 for i in items if i.kind == k) for k in MEDIA_KINDS},
            "by_status": {s: sum(1 for i in items if i.status == s) for s in MEDIA_STATUSES},
        }

    def media_path(self, media_id: str) -> Path:
        return self.blobs.local_path(media_id)

    def media_bytes(self, media_id: str) -> bytes:
        with self.blobs.open(media_id) as fh:
            return fh.read()


def expand_paths(paths: Iterable[Path]) -> Iterable[tuple[Path, str]]:
    """Files as given, and every file under a folder (recursively, hidden files skipped), in a stable order."""
    for path in map(Path, paths):
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield child, child.name
        else:
            yield path, path.name
