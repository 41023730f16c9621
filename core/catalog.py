"""The media catalog: ingest files into the store (validated, content-addressed) and look them up."""
from __future__ import annotations

import bisect
import io
import logging
import os
import shutil
import tempfile
import threading
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from core.config import Config
from core.domain import MEDIA_KINDS, MEDIA_STATUSES, Job, MediaItem, as_dict, from_dict, utc_now
from core.errors import AlreadyExists, LoupeError, MediaRejected, NotFound, VersionConflict, WriteFailed, write_failed
from core.jobs import JobContext
from core.media import MAX_NAME_CHARS, probe, safe_file_name, sha256_file, shorten_file_name
from core.stores.base import BlobStore, Record, RecordStore, update_record

log = logging.getLogger(__name__)

KIND = "media"
STAGING_CHUNK_BYTES = 1 << 20  # an upload is copied to disk in chunks this big, never held whole
NAME_KIND = "media_name"  # one record per display name (key: the name casefolded), claimed atomically
COUNTER = "media"  # store counter: field "<kind>.<status>" = items of that kind in that status, "_ready" once counted
READY = "_ready"

JOB_KIND = "ingest"  # handler: Catalog.run_ingest_job, wrapped by Labeling.label_after (core/service.py)
POINT_LOOKUPS = 32  # up to this many references are looked up key by key; more read the catalog once instead
MIN_ID_PREFIX = 12  # an id prefix this long or longer names an item


@dataclass(frozen=True)
class IngestOutcome:
    file: str
    status: str  # "ingested" | "duplicate" | "rejected" (bad input) | "failed" (could not be stored)
    media_id: str | None = None
    reason: str | None = None
    kind: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "media_id": self.media_id, "reason": self.reason}


@dataclass(frozen=True)
class MediaMatch:
    """What one reference in an import names: an item, or in words why none (no such item, or several)."""
    item: MediaItem | None
    problem: str = ""  # "" when item is set; "not found" or "matches 2 items: a.jpg, a.png" otherwise


Upload = tuple[str, "bytes | BinaryIO"]  # (name as uploaded, content: bytes or a readable binary stream)


class Catalog:
    def __init__(self, records: RecordStore, blobs: BlobStore, config: Config):
        self.records = records
        self.blobs = blobs
        self.config = config
        self.staging_dir = config.data_dir / "staging"
        self._names_indexed = False
        self._names_lock = threading.Lock()

    # ---- ingest -------------------------------------------------------------------------------------
    def ingest_file(self, path: Path, *, name: str | None = None, created_by: str = "") -> IngestOutcome:
        """Validate one file and store it once by content hash. Never raises for bad input."""
        display = safe_file_name(name or Path(path).name)
        try:
            if not Path(path).is_file():
                raise MediaRejected("The file does not exist or is not a regular file.")
            media_id = sha256_file(path)
            if self.records.get(KIND, media_id) is not None:
                return IngestOutcome(display, "duplicate", media_id,
                                     "Already present: the same content was uploaded before.")
            info = probe(path, max_bytes=self.config.max_upload_bytes, max_pixels=self.config.max_image_pixels,
                         max_duration_s=self.config.max_media_duration_s)
            self.blobs.put_file(media_id, Path(path))
            display = self._claim_name(display, media_id)
            item = MediaItem(
                media_id=media_id, kind=info.kind, file_name=display, size_bytes=Path(path).stat().st_size,
                format=info.format, width=info.width, height=info.height, duration_s=info.duration_s,
                codecs=info.codecs, status="new", created_at=utc_now(), created_by=created_by,
            )
            try:
                self.records.create(KIND, media_id, as_dict(item), parent=info.kind, sort=item.created_at)
            except AlreadyExists:  # the same content, ingested meanwhile under its own name
                self._release_name(display, media_id)
                return IngestOutcome(display, "duplicate", media_id,
                                     "Already present: the same content was uploaded before.")
            except WriteFailed:
                self._release_name(display, media_id)
                raise
            self._count(info.kind, None, "new")
            log.info("ingested %s as %s %s", display, info.kind, media_id[:12])
            return IngestOutcome(display, "ingested", media_id, None, info.kind)
        except MediaRejected as exc:
            log.info("rejected %s: %s", display, exc)
            return IngestOutcome(display, "rejected", None, str(exc))
        except WriteFailed as exc:
            log.warning("could not store %s: %s", display, exc)
            return IngestOutcome(display, "failed", None, str(exc))
        except OSError as exc:
            log.exception("could not read %s", display)
            return IngestOutcome(display, "rejected", None, f"The file could not be read: {exc.strerror or exc}.")

    def stage_bytes(self, name: str, data: bytes) -> Path:
        return self.stage_stream(name, io.BytesIO(data))

    def stage_stream(self, name: str, source: BinaryIO) -> Path:
        """Keep an upload on disk so a background job (or a restart) can ingest it, copied in bounded chunks.

        A full disk raises WriteFailed in words and leaves no partial file.
        """
        tmp: str | None = None
        try:
            self.staging_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.staging_dir, prefix=f"{uuid.uuid4().hex}-", suffix=".upload")
            with os.fdopen(fd, "wb") as fh:
                shutil.copyfileobj(source, fh, STAGING_CHUNK_BYTES)
        except OSError as exc:
            log.error("could not stage the upload %s: %s", safe_file_name(name), exc)
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            raise write_failed(f"the upload {safe_file_name(name)}", exc) from None
        return Path(tmp)

    def stage_uploads(self, files: list[Upload]) -> list[list[str]]:
        """Stage a batch of uploads (`[[path, name], ...]` for an ingest job), refusing an oversized batch in words.

        Streams are read from where they stand, in chunks. If one file can't be staged, the files staged before it
        are removed again and the WriteFailed is raised: a batch is staged whole or not at all.
        """
        limit = self.config.max_files_per_batch
        if len(files) > limit:
            raise LoupeError(f"{len(files)} files are more than one upload takes ({limit}, LOUPE_MAX_FILES_PER_BATCH). "
                             f"Upload them in batches of {limit} or fewer, or ingest a folder on the server with "
                             "`python -m core ingest FOLDER`.")
        staged: list[list[str]] = []
        try:
            for name, content in files:
                stream = io.BytesIO(content) if isinstance(content, (bytes, bytearray)) else content
                staged.append([str(self.stage_stream(name, stream)), name])
        except BaseException:
            for path, _ in staged:
                Path(path).unlink(missing_ok=True)
            raise
        return staged

    def ingest_paths(self, paths: Iterable[Path], *, created_by: str = "") -> Iterator[IngestOutcome]:
        """Ingest files and folders (recursively), one outcome per file as it is done; a missing path is rejected."""
        for path in paths:
            files = expand_paths([path]) if path.exists() else [(path, path.name)]
            for file, name in files:
                yield self.ingest_file(file, name=name, created_by=created_by)

    def run_ingest_job(self, ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
        """Job handler: ingest staged uploads (`files: [[path, name], ...]`), deleting each once done.

        Each file's outcome is checkpointed before its staged copy is deleted (and the file about to be ingested,
        before it is), so a job resumed after a restart reports the files done before it as they were: one that a
        crash caught between storing it and checkpointing it is "ingested", not a duplicate of itself."""
        files = [(Path(p), n) for p, n in params["files"]]
        before = ctx.job.result
        outcomes = list(before.get("outcomes", []))[:len(files)]  # from before a restart
        ctx.progress(len(outcomes), len(files))
        for i, (path, name) in enumerate(files):
            if i < len(outcomes):
                if params.get("staged"):
                    path.unlink(missing_ok=True)
                continue
            if ctx.is_cancelled():
                break
            was_started = before.get("next") == i
            ctx.checkpoint({"outcomes": outcomes, "next": i})
            if path.exists():
                outcome = self.ingest_file(path, name=name, created_by=params.get("created_by", ""))
                if was_started and outcome.status == "duplicate" and self._stored_by(outcome, ctx.job):
                    outcome = IngestOutcome(outcome.file, "ingested", outcome.media_id, None, outcome.kind)
            else:
                outcome = IngestOutcome(safe_file_name(name), "rejected", None,
                                        "The uploaded file was lost before it could be ingested; upload it again.")
            outcomes.append(outcome.as_json())
            ctx.checkpoint({"outcomes": outcomes})
            if params.get("staged"):
                path.unlink(missing_ok=True)
            ctx.progress(i + 1, len(files), f"{name}")
        return {"outcomes": outcomes, "counts": dict(Counter(o["status"] for o in outcomes))}

    def _stored_by(self, outcome: IngestOutcome, job: Job) -> bool:
        """Whether the item a duplicate points at was stored after this job was queued, i.e. by this job before a
        restart."""
        rec = self.records.get(KIND, outcome.media_id or "")
        return rec is not None and str(rec.body.get("created_at", "")) >= job.created_at

    # ---- lookup -------------------------------------------------------------------------------------
    def get(self, media_id: str) -> MediaItem:
        rec = self.records.get(KIND, media_id)
        if rec is None:
            raise NotFound(KIND, media_id)
        return from_dict(MediaItem, rec.body)

    def get_many(self, media_ids: Iterable[str], *, consistent: bool = True) -> dict[str, MediaItem]:
        """The items of these ids that exist, in one store call per hundred or so (`consistent=False`: for a list, a
        version a moment old at half the read capacity on DynamoDB)."""
        return {key: from_dict(MediaItem, rec.body)
                for key, rec in self.records.get_many(KIND, media_ids, consistent=consistent).items()}

    def list(self, kind: str | None = None, status: str | None = None) -> list[MediaItem]:
        items = [from_dict(MediaItem, r.body) for r in self.records.query(KIND, parent=kind)]
        return [i for i in items if status is None or i.status == status]

    def find(self, name_or_id: str) -> MediaItem | None:
        """A media item by id, file name (display names are unique, case aside) or id prefix (12+ chars)."""
        return self.match([name_or_id], by_stem=False, as_given=True)[name_or_id].item

    def match(self, refs: Iterable[str], *, by_stem: bool = True, as_given: bool = False) -> dict[str, MediaMatch]:
        """What each reference names, for imports keyed by anything: a media id, a file name (case aside), a
        `media/<id>` key or an S3 URI of one (`s3://bucket/photos/cat.jpg` is `cat.jpg`), an id prefix of 12+
        characters, or (`by_stem`) a file name without its extension.

        The catalog is read at most once, however many references there are: a handful are looked up key by key
        (an import of one response file in a big catalog reads a few records), and only those not found that way
        (or all of them, past POINT_LOOKUPS) are resolved against one pass over the catalog. A reference that fits
        several items (two ids share the prefix, photo.jpg and photo.png share the stem) names none of them, and the
        problem says which it could be. `as_given`: the reference is an id, prefix or name exactly as given, no URI
        or path taken apart.
        """
        wanted = list(dict.fromkeys(r for r in refs if r is not None))
        normal = {r: str(r).strip() if as_given else _normal_ref(r) for r in wanted}
        found: dict[str, MediaMatch] = {}
        if len(wanted) <= POINT_LOOKUPS:
            for ref in wanted:
                if item := self._by_key(normal[ref]):
                    found[ref] = MediaMatch(item)
        rest = [r for r in wanted if r not in found]
        if len(wanted) <= POINT_LOOKUPS:  # names are claimed in a record each: a name not found by key is not there
            for ref in [r for r in rest if not _needs_scan(normal[r], by_stem)]:
                found[ref] = MediaMatch(None, "not found")
                rest.remove(ref)
        if rest:
            index = _CatalogIndex(self.list())
            found.update((ref, index.match(normal[ref], by_stem=by_stem)) for ref in rest)
        return found

    def _by_key(self, ref: str) -> MediaItem | None:
        """By id or by display name, each one key read; None when it takes a scan (a prefix or a stem) or fails."""
        if not ref:
            return None
        rec = self.records.get(KIND, ref)
        if rec:
            return from_dict(MediaItem, rec.body)
        self._index_names()
        named = self.records.get(NAME_KIND, _name_key(ref))
        if named and (rec := self.records.get(KIND, named.body["media_id"])):
            return from_dict(MediaItem, rec.body)
        return None

    # ---- display names ------------------------------------------------------------------------------
    def _claim_name(self, wanted: str, media_id: str) -> str:
        """wanted, or "wanted (2)", "(3)"...: the first display name no other item holds, claimed for media_id.

        The claim is a create of a record keyed by the name, so two concurrent ingests never get the same name,
        on either store. A claim left by a crash before the media record was written is taken up again.
        """
        self._index_names()
        return self._claim(wanted, media_id)

    def _claim(self, wanted: str, media_id: str) -> str:
        for number in range(1, 100_000):
            name = wanted if number == 1 else numbered_name(wanted, number)
            try:
                self.records.create(NAME_KIND, _name_key(name), {"media_id": media_id, "file_name": name})
                return name
            except AlreadyExists:
                held = self.records.get(NAME_KIND, _name_key(name))
                if held and held.body.get("media_id") == media_id:
                    return name
        raise LoupeError(f"Too many media items are named like {wanted!r}; rename the file and upload it again.")

    def _release_name(self, name: str, media_id: str) -> None:
        held = self.records.get(NAME_KIND, _name_key(name))
        if held and held.body.get("media_id") == media_id:
            try:
                self.records.delete(NAME_KIND, held.key, expected_version=held.version)
            except LoupeError as exc:  # changed meanwhile, or the disk is full: the claim is taken up again later
                log.info("display name %r left claimed: %s", name, exc)

    def _index_names(self) -> None:
        """Claim the names of items stored before names were unique, once per process.

        Where two older items share a name, the later one is renamed "name (2)" so a name finds one item.
        """
        if self._names_indexed:
            return
        with self._names_lock:
            if self._names_indexed or self.records.count(NAME_KIND) >= self.records.count(KIND):
                self._names_indexed = True
                return
            for item in sorted(self.list(), key=lambda i: (i.created_at, i.media_id)):
                held = self.records.get(NAME_KIND, _name_key(item.file_name))
                if held and held.body.get("media_id") == item.media_id:
                    continue
                name = self._claim(item.file_name, item.media_id)
                if name != item.file_name:
                    log.info("renamed %s to %r: another item already had the name %r", item.media_id[:12], name,
                             item.file_name)
                    update_record(self.records, KIND, item.media_id, _renamed(name), what="media item")
            self._names_indexed = True

    def set_status(self, media_id: str, status: str) -> MediaItem:
        """Status is set by the system, so a concurrent change is simply retried on the newer version."""
        if status not in MEDIA_STATUSES:
            raise LoupeError(f"Unknown media status {status!r}.")
        before: list[str] = []

        def change(body: dict[str, Any]) -> dict[str, Any]:
            before[:] = [body.get("status", "new")]  # the status of the version this write replaces
            return {**body, "status": status}

        body = update_record(self.records, KIND, media_id, change, what="media item")
        self._count(body["kind"], before[0], status)
        return from_dict(MediaItem, body)

    def set_statuses(self, media_ids: Iterable[str], status: str) -> int:
        """`set_status` for many items (a bulk import): one read per hundred items, a conditional write each, and one
        counter update for all. Returns how many items changed."""
        if status not in MEDIA_STATUSES:
            raise LoupeError(f"Unknown media status {status!r}.")
        deltas: Counter[str] = Counter()
        changed = 0
        for rec in self.records.get_many(KIND, media_ids).values():
            old = rec.body.get("status", "new")
            if old == status:
                continue
            try:
                self.records.put(KIND, rec.key, {**rec.body, "status": status}, expected_version=rec.version,
                                 parent=rec.parent, sort=rec.sort)
            except VersionConflict:  # changed meanwhile: the one-by-one path retries on the newer version
                self.set_status(rec.key, status)
                changed += 1
                continue
            deltas[f"{rec.body.get('kind', rec.parent)}.{old}"] -= 1
            deltas[f"{rec.body.get('kind', rec.parent)}.{status}"] += 1
            changed += 1
        self.records.add_counts(COUNTER, deltas)
        return changed

    # ---- counts -------------------------------------------------------------------------------------
    def _count(self, kind: str, old: str | None, new: str) -> None:
        """Move one item between the counter's cells, after the write that moved it succeeded (a crash between the
        two leaves the counts off by one until `recount`)."""
        if old == new:
            return
        deltas = {f"{kind}.{new}": 1}
        if old is not None:
            deltas[f"{kind}.{old}"] = -1
        self.records.add_counts(COUNTER, deltas)

    def cells(self) -> dict[str, int]:
        """"<kind>.<status>" -> items: one read of the store counter (counted once first on an older store)."""
        counts = self.records.counts(COUNTER)
        if READY not in counts:
            counts = self.recount()
        return {k: v for k, v in counts.items() if k != READY}

    def counts(self, kinds: tuple[str, ...] = MEDIA_KINDS) -> dict[str, Any]:
        """Items in all, per kind and per status (of `kinds`), from the counter: no record is read."""
        cells = self.cells()

        def cell(kind: str, status: str) -> int:
            return max(0, cells.get(f"{kind}.{status}", 0))

        return {
            "total": sum(cell(k, s) for k in kinds for s in MEDIA_STATUSES),
            "by_kind": {k: sum(cell(k, s) for s in MEDIA_STATUSES) for k in kinds},
            "by_status": {s: sum(cell(k, s) for k in kinds) for s in MEDIA_STATUSES},
        }

    def recount(self) -> dict[str, int]:
        """Count every item once (a store from before counters, or to repair a crash between a write and its count)
        and give items written before the sort order theirs (created_at). Returns the counter as written."""
        cells: Counter[str] = Counter()
        for rec in self.records.query(KIND):
            cells[f"{rec.body.get('kind', rec.parent)}.{rec.body.get('status', 'new')}"] += 1
            if not rec.sort and rec.body.get("created_at"):
                self._give_sort(rec)
        values = {**cells, READY: 1}
        if not cells and not self.records.counts(COUNTER):
            return values  # an empty store stays empty (its first ingest starts the counter; one cheap query till then)
        self.records.set_counts(COUNTER, values)
        log.info("media counted: %d item(s)", sum(cells.values()))
        return values

    def _give_sort(self, rec: Record) -> None:
        for _ in range(5):
            try:
                self.records.put(KIND, rec.key, rec.body, expected_version=rec.version, parent=rec.parent,
                                 sort=str(rec.body["created_at"]))
                return
            except VersionConflict:
                fresh = self.records.get(KIND, rec.key)
                if fresh is None or fresh.sort:
                    return
                rec = fresh

    def media_path(self, media_id: str) -> Path:
        return self.blobs.local_path(media_id)

    def media_bytes(self, media_id: str) -> bytes:
        with self.blobs.open(media_id) as fh:
            return fh.read()


def numbered_name(name: str, number: int) -> str:
    """ "photo.jpg" -> "photo (2).jpg", within the name length limit."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    tag = f" ({number})"
    ext = f".{suffix}" if suffix else ""
    return shorten_file_name(stem, MAX_NAME_CHARS - len(tag) - len(ext)) + tag + ext


def records_for(item: MediaItem) -> list[Record]:
    """The records one ingest writes for `item` (the item and its display name), for bulk loads through `put_many`
    (benchmarks, fixtures): follow one with `Catalog.recount`."""
    return [Record(KIND, item.media_id, as_dict(item), parent=item.kind, sort=item.created_at),
            Record(NAME_KIND, _name_key(item.file_name), {"media_id": item.media_id, "file_name": item.file_name})]


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _normal_ref(ref: str) -> str:
    """The part of a reference that can name an item: an S3 URI's object key, `media/<id>` as the id, and a path
    as its file name (display names never hold a slash)."""
    ref = str(ref).strip()
    if ref.startswith("s3://"):
        ref = ref[5:].partition("/")[2]
    if ref.startswith("media/"):
        ref = ref.removeprefix("media/")
    return ref.rsplit("/", 1)[-1]


def _needs_scan(ref: str, by_stem: bool) -> bool:
    return bool(ref) and (by_stem or len(ref) >= MIN_ID_PREFIX)


class _CatalogIndex:
    """Every item by id, by display name and by name without extension (all case aside), from one catalog read."""

    def __init__(self, items: Iterable[MediaItem]):
        self.by_id: dict[str, MediaItem] = {}
        self.by_name: dict[str, list[MediaItem]] = {}
        self.by_stem: dict[str, list[MediaItem]] = {}
        for item in items:
            self.by_id[item.media_id] = item
            key = _name_key(item.file_name)
            self.by_name.setdefault(key, []).append(item)
            self.by_stem.setdefault(key.rsplit(".", 1)[0] if "." in key.lstrip(".") else key, []).append(item)
        self.ids = sorted(self.by_id)

    def match(self, ref: str, *, by_stem: bool) -> MediaMatch:
        if not ref:
            return MediaMatch(None, "not found")
        if item := self.by_id.get(ref):
            return MediaMatch(item)
        key = _name_key(ref)
        candidates = self.by_name.get(key, [])
        if not candidates and len(ref) >= MIN_ID_PREFIX:
            start, end = bisect.bisect_left(self.ids, ref), bisect.bisect_right(self.ids, ref + "\U0010ffff")
            candidates = [self.by_id[media_id] for media_id in self.ids[start:end]]
        if not candidates and by_stem:
            candidates = self.by_stem.get(key, [])
        if len(candidates) == 1:
            return MediaMatch(candidates[0])
        if not candidates:
            return MediaMatch(None, "not found")
        names = ", ".join(sorted(i.file_name for i in candidates)[:5])
        more = "" if len(candidates) <= 5 else f" and {len(candidates) - 5} more"
        return MediaMatch(None, f"matches {len(candidates)} items: {names}{more}")


def expand_paths(paths: Iterable[Path]) -> Iterable[tuple[Path, str]]:
    """Files as given, and every file under a folder (recursively, hidden files skipped), in a stable order."""
    for path in map(Path, paths):
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield child, child.name
        else:
            yield path, path.name


def _renamed(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A record body change: the item's file name becomes `name`."""
    return lambda body: {**body, "file_name": name}
