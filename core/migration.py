"""Copy a whole project (records and media) from one store backend to another, resumably, then check counts; and
the one-time rewrite of results into per-workflow results (migrate_results).

Resumable because it is idempotent: a record already on the destination with the same version is skipped,
a media file already there (by hash) is not sent again. Media files go before the record that names them,
so an interrupted run never leaves a media record without its bytes. Stop the app servers first: writes
made during a migration may be missed (run it again to pick them up).
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core import changes
from core.catalog import KIND as MEDIA_KIND
from core.errors import NotFound
from core.label_snapshots import POINTER_KEY as SNAPSHOT_KEY
from core.label_snapshots import POINTER_KIND as SNAPSHOT_KIND
from core.stores.base import BlobStore, Record, RecordStore

if TYPE_CHECKING:
    from core.consolidation import Consolidation
    from core.loops import Loops

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, str], None]


@dataclass(frozen=True)
class MigrationReport:
    copied: dict[str, int] = field(default_factory=dict)  # records written, by kind
    skipped: dict[str, int] = field(default_factory=dict)  # already on the destination at the same version
    media_copied: int = 0
    media_skipped: int = 0
    media_missing: tuple[str, ...] = ()  # media records whose bytes the source store lacks
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (source, destination)

    @property
    def is_complete(self) -> bool:
        """Every kind has at least as many records on the destination as on the source."""
        return all(dst >= src for src, dst in self.counts.values())

    def summary(self) -> str:
        lines = [f"{'kind':20} {'source':>8} {'destination':>12} {'copied':>8} {'skipped':>8}"]
        for kind, (src, dst) in sorted(self.counts.items()):
            mark = "" if dst >= src else "   <- missing records"
            lines.append(f"{kind:20} {src:>8} {dst:>12} {self.copied.get(kind, 0):>8} "
                         f"{self.skipped.get(kind, 0):>8}{mark}")
        lines.append(f"media files: {self.media_copied} copied, {self.media_skipped} already there")
        if self.media_missing:
            lines.append(f"media files missing on the source (not copied): {len(self.media_missing)}")
        return "\n".join(lines)


def migrate(src_records: RecordStore, src_blobs: BlobStore, dst_records: RecordStore, dst_blobs: BlobStore, *,
            batch_size: int = 200, progress: ProgressFn | None = None, settle_s: float = 10.0) -> MigrationReport:
    """Copy every record and media file from src to dst, skipping what dst already holds."""
    dst_versions: dict[str, dict[str, int]] = {}
    copied: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    source_counts: Counter[str] = Counter()
    media = {"copied": 0, "skipped": 0}
    missing: list[str] = []
    pending: list[Record] = []
    seen = 0

    def flush() -> None:
        if pending:
            dst_records.put_many(pending)
            pending.clear()

    for record in src_records.scan():
        if record.kind == SNAPSHOT_KIND:  # it names a blob of the source's; the destination builds its own
            continue
        seen += 1
        source_counts[record.kind] += 1
        if record.kind not in dst_versions:
            dst_versions[record.kind] = {r.key: r.version for r in dst_records.query(record.kind)}
        if dst_versions[record.kind].get(record.key) == record.version:
            skipped[record.kind] += 1
        else:
            if record.kind == MEDIA_KIND and not _copy_media(record.key, src_blobs, dst_blobs, media):
                missing.append(record.key)
            pending.append(record)
            copied[record.kind] += 1
            if len(pending) >= batch_size:
                flush()
        if record.kind == MEDIA_KIND and dst_versions[record.kind].get(record.key) == record.version:
            _copy_media(record.key, src_blobs, dst_blobs, media)  # a run stopped between bytes and record
        if progress and seen % 100 == 0:
            progress(seen, f"{seen} records read")
    flush()
    forget_label_snapshot(dst_records)
    counts = _count(source_counts, dst_records, settle_s=settle_s)
    report = MigrationReport(dict(copied), dict(skipped), media["copied"], media["skipped"], tuple(missing), counts)
    log.info("migration done: %s", report.summary().replace("\n", "; "))
    return report


def forget_label_snapshot(records: RecordStore) -> None:
    """Routing's label snapshot reads only predictions stamped after it, and copied ones keep their source's stamps:
    after a copy, the destination's routing must read every prediction once (and write a new snapshot)."""
    try:
        records.delete(SNAPSHOT_KIND, SNAPSHOT_KEY)
    except NotFound:
        pass


def _count(source_counts: Counter[str], dst: RecordStore, *, settle_s: float) -> dict[str, tuple[int, int]]:
    """Source and destination counts per kind. DynamoDB counts through an index that lags writes by a moment,
    so a short count is taken again for up to settle_s before it is reported."""
    deadline = time.monotonic() + settle_s
    while True:
        counts = {kind: (n, dst.count(kind)) for kind, n in source_counts.items()}
        if all(d >= s for s, d in counts.values()) or time.monotonic() >= deadline:
            return counts
        time.sleep(1.0)


def _copy_media(sha256: str, src: BlobStore, dst: BlobStore, tally: dict[str, int]) -> bool:
    if dst.exists(sha256):
        tally["skipped"] += 1
        return True
    try:
        path = src.local_path(sha256)
    except NotFound:
        log.warning("media file %s is missing on the source store; its record is copied without it", sha256[:12])
        return False
    dst.put_file(sha256, path)
    tally["copied"] += 1
    return True


# ---- per-workflow results ---------------------------------------------------------------------------------
RESULTS_MARKER = ("migration", "results-by-workflow")  # (kind, key) written once the rewrite below checked out


@dataclass(frozen=True)
class ResultsMigrationReport:
    """The one-time rewrite of results keyed by item alone into results keyed by (workflow, item)."""
    legacy: int = 0  # results found keyed by item alone
    moved: int = 0  # rewritten under (workflow, item)
    already_moved: int = 0  # the (workflow, item) copy was there already (an earlier run stopped before deleting)
    recomputed: int = 0  # (workflow, item) results rebuilt from answers, where another workflow had overwritten them
    expected: int = 0  # (workflow, item) pairs with answered, completed loops of a voted task type
    found: int = 0  # of those, with a result after the run
    legacy_left: int = 0  # results still keyed by item alone after the run
    was_done: bool = False  # the marker said an earlier run completed; nothing was read

    @property
    def is_complete(self) -> bool:
        return self.was_done or (self.legacy_left == 0 and self.found == self.expected)

    def summary(self) -> str:
        if self.was_done:
            return "results are already keyed by workflow and item"
        return (f"results keyed by item alone: {self.legacy} found, {self.moved} moved, {self.already_moved} already "
                f"moved, {self.legacy_left} left; recomputed from answers: {self.recomputed}; "
                f"(workflow, item) results: {self.found} of {self.expected} expected")


def migrate_results(records: RecordStore, consolidation: Consolidation, loops: Loops) -> ResultsMigrationReport:
    """Key every consolidated result by (workflow, item), recomputing from stored answers the results that a later
    workflow overwrote. Idempotent, so an interrupted run is resumed by running it again: each result is written
    under its new key before the old one is deleted. The marker is written only when the counts check out, read
    back consistently (get, not the lagging list indexes)."""
    from core.consolidation import KIND, result_key
    from core.errors import VersionConflict
    from core.task_types import task_type_of

    if records.get(*RESULTS_MARKER) is not None:
        return ResultsMigrationReport(was_done=True)
    legacy = [r for r in records.query(KIND) if "|" not in r.key]
    moved = already = 0
    for old in legacy:
        workflow = str(old.body.get("workflow") or old.parent or "")
        if workflow:
            new_key = result_key(workflow, old.key)
            if records.get(KIND, new_key) is None:
                records.put_many([Record(KIND, new_key, old.body, parent=workflow,
                                          sort=str(old.body.get("updated_at", "")))])
                moved += 1
            else:
                already += 1
        try:
            records.delete(KIND, old.key, expected_version=old.version)
        except (NotFound, VersionConflict):  # another run got there first
            pass
    groups: dict[tuple[str, str], list] = {}
    for lp in loops.list(status="Completed"):
        groups.setdefault((lp.workflow, lp.media_id), []).append(lp)
    expected = found = recomputed = 0
    for (workflow, media_id), group in sorted(groups.items()):
        if not task_type_of(consolidation.task_type(workflow)).is_voted:
            continue
        if records.get(KIND, result_key(workflow, media_id)) is None:
            if consolidation.consolidate(media_id, workflow, loops=group) is None:
                continue  # no answers: nothing to keep
            recomputed += 1
        expected += 1
        found += records.get(KIND, result_key(workflow, media_id)) is not None
    left = sum(1 for old in legacy if records.get(KIND, old.key) is not None)
    if legacy:
        changes.stamp(records, changes.RESULTS, media=[old.key for old in legacy])
    report = ResultsMigrationReport(len(legacy), moved, already, recomputed, expected, found, left)
    if report.is_complete and (report.legacy or report.expected):  # an empty store gets no record of its own
        records.put_many([Record(RESULTS_MARKER[0], RESULTS_MARKER[1], {"summary": report.summary()})])
    log.info("results migration: %s", report.summary())
    return report
