"""Leftovers of crashes and full disks, found and removed safely: partial temp files of media, staged uploads no
job will ingest, media objects no item points at (keeping the current routing snapshot), and DynamoDB chunk items
no record points at.

Safe means: only what nothing can still be writing or reading. Everything younger than `min_age_s` is left alone
(a write may be in flight), a staged upload that an unfinished job names is kept, and a stored media file is removed
only if no media record names its hash. `python -m core gc` runs it with counts (`--dry-run` counts only); the
service runs the cheap local part (partial files and staged uploads) when it starts.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from core.catalog import JOB_KIND as INGEST_JOB_KIND
from core.catalog import Catalog
from core.jobs import JobRunner
from core.label_snapshots import LabelSnapshots
from core.stores.base import BlobStore, RecordStore

log = logging.getLogger(__name__)

DEFAULT_MIN_AGE_S = 3600.0  # an hour: longer than any single upload or media copy takes


class SweepableBlobs(Protocol):
    def partial_files(self, min_age_s: float) -> list[Path]: ...

    def stored(self, min_age_s: float) -> Iterator[tuple[str, int]]: ...

    def delete(self, sha256: str) -> None: ...


@dataclass(frozen=True)
class LeftoverReport:
    partial_files: int = 0  # temp files of media copies cut short
    staged_uploads: int = 0  # uploads staged for a job that no longer exists or has finished
    orphan_media: int = 0  # stored media files (local or S3) that no media item names
    orphan_chunks: int = 0  # DynamoDB chunk items that no record points at
    bytes_freed: int = 0
    is_dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def total(self) -> int:
        return self.partial_files + self.staged_uploads + self.orphan_media + self.orphan_chunks


class Leftovers:
    def __init__(self, records: RecordStore, blobs: BlobStore, catalog: Catalog, jobs: JobRunner):
        self.records = records
        self.blobs = blobs
        self.catalog = catalog
        self.jobs = jobs

    def collect(self, *, min_age_s: float = DEFAULT_MIN_AGE_S, dry_run: bool = False,
                local_only: bool = False) -> LeftoverReport:
        """Find leftovers older than `min_age_s` and remove them (unless `dry_run`); `local_only` skips the scans
        of the media store and the record store (what the service does at startup)."""
        freed = 0
        partial = self._partial_files(min_age_s)
        staged = self._staged_uploads(min_age_s)
        for path in partial + staged:
            freed += _size(path)
            if not dry_run:
                path.unlink(missing_ok=True)
        media: list[tuple[str, int]] = []
        chunks: list[str] = []
        if not local_only:
            media = self._orphan_media(min_age_s)
            chunks = self._orphan_chunks(min_age_s)
            if not dry_run:
                for sha, _ in media:
                    self.blobs.delete(sha)  # type: ignore[attr-defined]
                if chunks:
                    self.records.delete_chunks(chunks)  # type: ignore[attr-defined]
            freed += sum(size for _, size in media)
        report = LeftoverReport(len(partial), len(staged), len(media), len(chunks), freed, dry_run)
        if report.total:
            log.info("leftovers %s: %s", "found" if dry_run else "removed", report.as_json())
        return report

    def _partial_files(self, min_age_s: float) -> list[Path]:
        sweep = getattr(self.blobs, "partial_files", None)
        return list(sweep(min_age_s)) if sweep else []

    def _staged_uploads(self, min_age_s: float) -> list[Path]:
        folder = self.catalog.staging_dir
        if not folder.is_dir():
            return []
        pending = {Path(p) for job in self.jobs.recent(limit=10_000, kind=INGEST_JOB_KIND) if not job.is_finished
                   for p, _ in job.params.get("files", [])}
        now = time.time()
        return [p for p in folder.iterdir() if p.is_file() and p not in pending
                and now - p.stat().st_mtime >= min_age_s]

    def _orphan_media(self, min_age_s: float) -> list[tuple[str, int]]:
        stored = getattr(self.blobs, "stored", None)
        if stored is None:
            return []
        listed = list(stored(min_age_s))  # listed first: an item ingested meanwhile has its record by then
        known = {item.media_id for item in self.catalog.list()}
        known.add(LabelSnapshots(self.records, self.blobs).current_sha256())
        return [(sha, size) for sha, size in listed if sha not in known]

    def _orphan_chunks(self, min_age_s: float) -> list[str]:
        find = getattr(self.records, "orphan_chunks", None)
        return list(find(min_age_s)) if find else []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
