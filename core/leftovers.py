"""Leftovers of crashes and full disks, found and removed safely: partial temp files of media, staged uploads no
job will ingest, media objects no item points at (keeping the current routing snapshot), DynamoDB chunk items
no record points at, and the work records (chunks done, item pages, window words) of jobs that have ended. A job
removes its own right after its final status is written, so these are left by a crash in between, or by jobs that
ended before jobs removed them.

Safe means: only what nothing can still be writing or reading. Everything younger than `min_age_s` is left alone
(a write may be in flight), a staged upload that an unfinished job names is kept, a stored media file is removed
only if no media record names its hash, and a job's work records only once its stored status is final (a queued or
running job may resume), or, if no job record names them (a submit that died before writing it), once they are
`min_age_s` old. `python -m core gc` runs it with counts (`--dry-run` counts only); the service runs the cheap
local part (partial files and staged uploads) when it starts.
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
from core.domain import Job, from_dict
from core.jobs import KIND as JOB_KIND
from core.jobs import JobRunner, work_kinds
from core.label_snapshots import LabelSnapshots
from core.stores.base import BlobStore, ChunkedRecords, RecordStore

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
    job_work_records: int = 0  # chunks done, item pages and window words of jobs that are final (or have no record)
    job_work_jobs: int = 0  # how many jobs those were of
    bytes_freed: int = 0
    is_dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def total(self) -> int:
        return self.partial_files + self.staged_uploads + self.orphan_media + self.orphan_chunks + self.job_work_records


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
        work: dict[str, list[str]] = {}
        jobs: set[str] = set()
        if not local_only:
            media = self._orphan_media(min_age_s)
            work, jobs = self._work_of_final_jobs(min_age_s)
            if not dry_run:
                for sha, _ in media:
                    self.blobs.delete(sha)
                for kind, keys in work.items():
                    self.records.delete_many(kind, keys)
            chunks = self._orphan_chunks(min_age_s)  # after the work records: a big one's chunk items are freed
            if chunks and not dry_run and isinstance(self.records, ChunkedRecords):
                self.records.delete_chunks(chunks)
            freed += sum(size for _, size in media)
        report = LeftoverReport(len(partial), len(staged), len(media), len(chunks),
                                sum(len(keys) for keys in work.values()), len(jobs), freed, dry_run)
        if report.total:
            log.info("leftovers %s: %s", "found" if dry_run else "removed", report.as_json())
        return report

    def _partial_files(self, min_age_s: float) -> list[Path]:
        return list(self.blobs.partial_files(min_age_s))

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
        listed = list(self.blobs.stored(min_age_s))  # listed first: an item ingested meanwhile has its record by then
        known = {item.media_id for item in self.catalog.list()}
        known.add(LabelSnapshots(self.records, self.blobs).current_sha256())
        return [(sha, size) for sha, size in listed if sha not in known]

    def _work_of_final_jobs(self, min_age_s: float) -> tuple[dict[str, list[str]], set[str]]:
        """kind -> keys of the work records (keyed "{job_id}/...") whose job is final, or has no record and they are
        older than min_age_s; and the ids of those jobs. A queued or running job keeps every one: it may resume."""
        by_job: dict[str, list[tuple[str, str, float]]] = {}
        for kind in sorted(work_kinds()):
            for rec in self.records.query(kind):
                by_job.setdefault(rec.key.split("/", 1)[0], []).append((kind, rec.key, rec.updated_at))
        stored = self.records.get_many(JOB_KIND, list(by_job), consistent=True)
        now = time.time()
        found: dict[str, list[str]] = {}
        jobs = set()
        for job_id, entries in by_job.items():
            job_rec = stored.get(job_id)
            if job_rec is None:  # a submit may be writing a long list's pages before its job record: wait min_age_s
                if any(now - updated_at < min_age_s for _, _, updated_at in entries):
                    continue
            elif not from_dict(Job, job_rec.body).is_finished:
                continue
            jobs.add(job_id)
            for kind, key, _ in entries:
                found.setdefault(kind, []).append(key)
        return found, jobs

    def _orphan_chunks(self, min_age_s: float) -> list[str]:
        return self.records.orphan_chunks(min_age_s) if isinstance(self.records, ChunkedRecords) else []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
