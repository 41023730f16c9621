"""Routing's label frames loaded from a stored snapshot plus the predictions written since it are the frames read
from every prediction, on every store, after any mix of writes, imports, relabels and deletes, and across processes."""
from __future__ import annotations

import hashlib
import logging
import random

import numpy as np
import pytest

from core.domain import Label, Prediction
from core.errors import NotFound
from core.label_snapshots import POINTER_KEY, POINTER_KIND, LabelColumns, LabelSnapshots
from core.predictions import Predictions, write_stamp
from core.routing import Router, build_frames
from core.stores.base import Record
from tests.processes import run_together

FIELDS = ("media_ids", "sample_points", "item", "label", "confidence_pct", "item_start")
NAMES = ("Cat", "Dog", "Weapons", "Smoking", "Tree", "Ünïcode", "a", "Z")


def assert_same_frames(got, want) -> None:
    assert got.keys() == want.keys()
    for category in want:
        for field in FIELDS:
            a, b = getattr(got[category], field), getattr(want[category], field)
            assert a.dtype == b.dtype and np.array_equal(a, b), (category, field)
        assert got[category].label_names == want[category].label_names, category


def scratch(predictions: Predictions):
    return build_frames(predictions.raw_labels())


def random_prediction(rng: random.Random, media_id: str, version: str = "v1") -> Prediction:
    labels = tuple(Label(rng.choice(NAMES), round(rng.random(), 4),
                         category=rng.choice(["general", "general", "moderation", "elsewhere"]))
                   for _ in range(rng.randint(0, 5)))
    return Prediction(media_id, version, labels, source=rng.choice(["local", "import"]))


def random_changes(rng: random.Random, predictions: Predictions, ids: list[str], round_: int) -> None:
    """A relabel of some items, an import of new and old ones, and a few deletes."""
    predictions.save_many(random_prediction(rng, m, f"v{round_}") for m in rng.sample(ids, min(len(ids), 7)))
    fresh = [f"item-{round_}-{i:03d}" for i in range(rng.randint(0, 6))]
    ids.extend(fresh)
    predictions.save_many(random_prediction(rng, m, "import") for m in fresh + rng.sample(ids, 3))
    for media_id in rng.sample(ids, min(len(ids), 2)):
        try:
            predictions.delete(media_id)
        except NotFound:
            pass
    if rng.random() < 0.3 and ids:  # a deleted item labeled again
        predictions.save(random_prediction(rng, rng.choice(ids)))


def open_router(records, blobs, **kwargs) -> Router:
    return Router(Predictions(records), None, LabelSnapshots(records, blobs), **kwargs)


@pytest.mark.parametrize("margin_s", [0.0, 120.0])  # 0: only the true delta is read; 120: the app's re-read margin
def test_frames_from_snapshot_and_changes_equal_frames_from_every_prediction(records, blobs, margin_s):
    rng = random.Random(15)
    predictions = Predictions(records)
    ids = [f"m{i:04d}" for i in range(40)]
    predictions.save_many(random_prediction(rng, m) for m in ids)
    live = open_router(records, blobs, margin_s=margin_s, rewrite_after=10**9)
    assert_same_frames(live.frames(), scratch(predictions))
    live.wait_for_snapshot()
    for round_ in range(4):
        random_changes(rng, predictions, ids, round_)
        # a new process: the stored snapshot plus what was written since
        assert_same_frames(open_router(records, blobs, margin_s=margin_s, rewrite_after=10**9).frames(),
                           scratch(predictions))
        # a process that loaded before: only what was written since its own load
        assert_same_frames(live.frames(), scratch(predictions))


def test_a_large_delta_rewrites_the_snapshot_and_the_next_process_reads_nothing_more(records, blobs):
    rng = random.Random(3)
    predictions = Predictions(records)
    predictions.save_many(random_prediction(rng, f"m{i:03d}") for i in range(30))
    first = open_router(records, blobs, margin_s=0.0, rewrite_after=5)
    first.frames()
    first.wait_for_snapshot()
    before = LabelSnapshots(records, blobs).current_sha256()
    predictions.save_many(random_prediction(rng, f"m{i:03d}", "v2") for i in range(10))
    first.frames()
    first.wait_for_snapshot()
    snapshot = LabelSnapshots(records, blobs).load()
    assert snapshot is not None and snapshot.sha256 != before
    assert snapshot.token == predictions.signature()
    assert_same_frames(open_router(records, blobs).frames(), scratch(predictions))
    with pytest.raises(NotFound):
        blobs.local_path(before)  # the replaced snapshot is removed


def _damage(blobs, sha: str, how: str) -> None:
    data = blobs.local_path(sha).read_bytes()
    bad = data[: len(data) // 2] if how == "truncated" else data[:100] + bytes(50) + data[150:]
    if hasattr(blobs, "root"):
        path = blobs.local_path(sha)
        path.chmod(0o644)
        path.write_bytes(bad)
    else:  # S3: the object itself, written past the checksum the blob store sends
        blobs.client.put_object(Bucket=blobs.bucket, Key=blobs.prefix + sha, Body=bad)
        blobs.local_path(sha).unlink()


@pytest.mark.parametrize("how", ["truncated", "corrupt"])
def test_a_damaged_snapshot_is_ignored_with_a_warning_and_rebuilt(records, blobs, how, caplog):
    rng = random.Random(7)
    predictions = Predictions(records)
    predictions.save_many(random_prediction(rng, f"m{i:03d}") for i in range(25))
    router = open_router(records, blobs)
    router.frames()
    router.wait_for_snapshot()
    sha = LabelSnapshots(records, blobs).current_sha256()
    _damage(blobs, sha, how)
    predictions.save_many(random_prediction(rng, f"m{i:03d}", "v2") for i in range(5))
    again = open_router(records, blobs)
    with caplog.at_level(logging.WARNING, logger="core.label_snapshots"):
        assert_same_frames(again.frames(), scratch(predictions))
    assert any("Ignoring the routing snapshot" in r.getMessage() for r in caplog.records)
    again.wait_for_snapshot()
    rebuilt = LabelSnapshots(records, blobs).load()
    assert rebuilt is not None and rebuilt.columns.n_items == 25
    assert_same_frames(open_router(records, blobs).frames(), scratch(predictions))


def test_a_pointer_to_a_missing_snapshot_reads_every_prediction(records, blobs):
    predictions = Predictions(records)
    predictions.save_many(random_prediction(random.Random(1), f"m{i}") for i in range(5))
    records.put_many([Record(POINTER_KIND, POINTER_KEY, {"sha256": "0" * 64, "tag": "0", "token": "x"})])
    assert_same_frames(open_router(records, blobs).frames(), scratch(predictions))


def test_changed_since_reads_only_what_was_written_after_a_stamp(records):
    predictions = Predictions(records)
    predictions.save_many(Prediction(f"old{i}", "v1", (Label("Cat", 0.5),)) for i in range(5))
    mark = write_stamp()
    predictions.save_many([Prediction("new", "v1", (Label("Dog", 0.7),)), Prediction("old1", "v2", ())])
    predictions.delete("old2")
    written, deleted = predictions.changed_since(mark)
    assert [m for m, _ in written] == ["new", "old1"] and deleted == {"old2"}
    predictions.save(Prediction("old2", "v3", (Label("Cow", 0.9),)))
    written, deleted = predictions.changed_since(mark)
    assert [m for m, _ in written] == ["new", "old1", "old2"] and deleted == set()


def test_label_columns_merge_keeps_one_current_prediction_per_item():
    base = LabelColumns.from_raw([("b", [{"name": "Dog", "confidence": 0.5}]),
                                  ("a", [{"name": "Cat", "confidence": 0.1, "category": "moderation"}])])
    merged = base.merge(LabelColumns.from_raw([("b", [{"name": "Emu", "confidence": 0.9}]), ("c", [])]), {"a"})
    assert merged.media_ids.tolist() == ["b", "c"] and merged.names == ("Emu",)
    assert merged.confidence.tolist() == [0.9] and merged.item_start.tolist() == [0, 1, 1]
    merged.check()
    assert LabelColumns.from_bytes(merged.to_bytes()).media_ids.tolist() == ["b", "c"]


# ---- two processes writing while a third loads ------------------------------------------------------------------
def _open_both(backend: str, where: str, blob_where: str):
    from core.stores.local import LocalBlobStore

    if backend == "local":
        from core.stores.local import SQLiteRecordStore

        return SQLiteRecordStore(where), LocalBlobStore(blob_where)
    from core.stores.dynamodb import DynamoDBRecordStore
    from tests.contract.dynamodb_backends import test_aws

    records = DynamoDBRecordStore(where, aws=test_aws(backend))
    if backend == "moto":
        from pathlib import Path

        from core.stores.s3 import S3BlobStore

        bucket, cache = blob_where.split("|")
        return records, S3BlobStore(bucket, Path(cache), aws=test_aws(backend))
    return records, LocalBlobStore(blob_where)


def race(backend: str, where: str, blob_where: str, role: str, rounds: int) -> None:
    """One process: a writer relabels, imports and deletes; the loader keeps loading (and rewriting the snapshot)."""
    records, blobs = _open_both(backend, where, blob_where)
    predictions = Predictions(records)
    if role == "loader":
        live = open_router(records, blobs, rewrite_after=1)
        for _ in range(rounds):
            fresh = open_router(records, blobs, rewrite_after=1)
            for frame in (live.frames(), fresh.frames()):
                for category in frame.values():
                    assert category.item_start[-1] == category.n_rows
            live.wait_for_snapshot()
            fresh.wait_for_snapshot()  # the process does not exit with a snapshot write in flight
    else:
        rng = random.Random(role)
        ids = [f"m{i:03d}" for i in range(30)]
        for round_ in range(rounds):
            random_changes(rng, predictions, ids, f"{role}{round_}")
    records.close()


def test_two_processes_writing_while_a_third_loads_leave_frames_equal_to_a_full_read(records, blobs, backend,
                                                                                      tmp_path):
    rng = random.Random(11)
    predictions = Predictions(records)
    predictions.save_many(random_prediction(rng, f"m{i:03d}") for i in range(30))
    first = open_router(records, blobs)
    first.frames()
    first.wait_for_snapshot()
    where = str(records.path) if backend == "local" else records.table
    blob_where = f"{blobs.bucket}|{tmp_path / 'cache-2'}" if backend == "moto" else str(blobs.root)
    rounds = 8 if backend == "local" else 4
    run_together(f"{__name__}:race", [[backend, where, blob_where, role, rounds]
                                      for role in ("writer-a", "writer-b", "loader")])
    want = scratch(predictions)
    assert_same_frames(first.frames(), want)  # loaded before the race: reads what was written since
    assert_same_frames(open_router(records, blobs).frames(), want)  # the snapshot the loader left, plus the rest


def test_a_migration_into_a_store_with_a_snapshot_makes_its_routing_read_every_prediction(records, blobs, tmp_path):
    from core.migration import migrate
    from core.stores.local import LocalBlobStore, SQLiteRecordStore

    rng = random.Random(5)
    source = SQLiteRecordStore(tmp_path / "source.sqlite3")
    Predictions(source).save_many(random_prediction(rng, f"s{i}") for i in range(10))  # stamped before the snapshot
    predictions = Predictions(records)
    predictions.save_many(random_prediction(rng, f"d{i}") for i in range(10))
    router = open_router(records, blobs, margin_s=0.0)
    router.frames()
    router.wait_for_snapshot()
    migrate(source, LocalBlobStore(tmp_path / "source-media"), records, blobs, settle_s=0.0)
    source.close()
    assert_same_frames(open_router(records, blobs, margin_s=0.0).frames(), scratch(predictions))
    assert scratch(predictions)["general"].n_items == 20


def test_a_new_process_reads_the_snapshot_and_what_changed_not_every_prediction(records, blobs, backend):
    if backend != "dynalite":
        pytest.skip("read capacity is DynamoDB's measure, and moto reports one unit for any query")
    rng = random.Random(9)
    predictions = Predictions(records)
    predictions.save_many(Prediction(f"m{i:03d}", "v1", tuple(Label(n, rng.random()) for n in NAMES))
                          for i in range(120))
    first = open_router(records, blobs, margin_s=0.0)
    first.frames()
    first.wait_for_snapshot()
    predictions.save(random_prediction(rng, "m007", "v2"))
    before = records.consumed_rcu
    frames = open_router(records, blobs, margin_s=0.0).frames()
    from_snapshot = records.consumed_rcu - before
    before = records.consumed_rcu
    assert_same_frames(frames, scratch(predictions))
    every_prediction = records.consumed_rcu - before
    assert from_snapshot * 4 < every_prediction, (from_snapshot, every_prediction)


class PointerRace:
    """The store, with another writer's snapshot landing between this writer's read of the pointer and its write."""

    def __init__(self, inner, other_write):
        self._inner, self._other_write = inner, other_write

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def _race(self, kind: str) -> None:
        if kind == POINTER_KIND and self._other_write is not None:
            other, self._other_write = self._other_write, None
            other()

    def create(self, kind, key, body, **kwargs):
        self._race(kind)
        return self._inner.create(kind, key, body, **kwargs)

    def put(self, kind, key, body, **kwargs):
        self._race(kind)
        return self._inner.put(kind, key, body, **kwargs)


@pytest.mark.parametrize("first", [False, True], ids=["over-a-pointer", "first-pointer"])
def test_an_older_snapshot_never_replaces_a_newer_one_written_meanwhile(records, blobs, first):
    def columns(name: str) -> LabelColumns:
        return LabelColumns.from_raw([(name, [{"name": "Cat", "confidence": 0.5}])])

    if not first:
        assert LabelSnapshots(records, blobs).save(columns("a"), "0001", "t1")
    newer = LabelSnapshots(records, blobs)
    written: list[str | None] = []
    racing = LabelSnapshots(PointerRace(records, lambda: written.append(newer.save(columns("c"), "0003", "t3"))),
                            blobs)
    assert racing.save(columns("b"), "0002", "t2") is None  # it lost to "0003", which landed after its read
    pointer = records.get(POINTER_KIND, POINTER_KEY)
    assert (pointer.body["tag"], pointer.body["sha256"]) == ("0003", written[0])
    assert blobs.exists(written[0]) and not blobs.exists(hashlib.sha256(columns("b").to_bytes()).hexdigest())
