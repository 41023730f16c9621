"""The store contract: every RecordStore backend must pass these, unchanged."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import AlreadyExists, NotFound, VersionConflict
from core.stores.base import Record


def test_create_then_get_returns_version_one(records):
    created = records.create("thing", "a", {"n": 1, "text": "<script>alert(1)</script>"}, parent="p")
    got = records.get("thing", "a")
    assert created.version == 1 and got.version == 1
    assert got.body == {"n": 1, "text": "<script>alert(1)</script>"}
    assert got.parent == "p"


def test_get_missing_is_none(records):
    assert records.get("thing", "nope") is None


def test_create_twice_raises_already_exists(records):
    records.create("thing", "a", {})
    with pytest.raises(AlreadyExists):
        records.create("thing", "a", {"other": True})
    assert records.get("thing", "a").body == {}


def test_put_with_current_version_increments(records):
    records.create("thing", "a", {"n": 1})
    rec = records.put("thing", "a", {"n": 2}, expected_version=1)
    assert rec.version == 2
    assert records.get("thing", "a").body == {"n": 2}


def test_put_with_stale_version_conflicts_and_keeps_the_newer(records):
    records.create("thing", "a", {"n": 1})
    records.put("thing", "a", {"n": 2, "by": "alice"}, expected_version=1)
    with pytest.raises(VersionConflict) as info:
        records.put("thing", "a", {"n": 2, "by": "bob"}, expected_version=1)
    assert info.value.expected_version == 1 and info.value.current_version == 2
    assert info.value.current_body == {"n": 2, "by": "alice"}
    assert "version 1" in str(info.value) and "version 2" in str(info.value)
    assert records.get("thing", "a").body["by"] == "alice"


def test_put_on_missing_record_conflicts(records):
    with pytest.raises(VersionConflict) as info:
        records.put("thing", "ghost", {}, expected_version=1)
    assert info.value.current_version is None


def test_query_by_kind_and_parent_in_key_order(records):
    for key, parent in [("b", "x"), ("a", "x"), ("c", "y")]:
        records.create("thing", key, {"k": key}, parent=parent)
    records.create("other", "a", {})
    assert [r.key for r in records.query("thing")] == ["a", "b", "c"]
    assert [r.key for r in records.query("thing", parent="x")] == ["a", "b"]
    assert records.count("thing") == 3


def test_query_pages_through_many_records(records):
    records.put_many(Record("bulk", f"k{i:05d}", {"i": i, "pad": "x" * 200}) for i in range(1200))
    keys = [r.key for r in records.query("bulk")]
    assert len(keys) == 1200 and keys == sorted(keys)


def test_put_many_upserts(records):
    n = records.put_many([Record("pred", "a", {"v": 1}), Record("pred", "b", {"v": 1})])
    assert n == 2
    records.put_many([Record("pred", "a", {"v": 2})])
    assert records.get("pred", "a").body == {"v": 2}


def test_delete_with_version_check(records):
    records.create("thing", "a", {})
    with pytest.raises(VersionConflict):
        records.delete("thing", "a", expected_version=5)
    records.delete("thing", "a", expected_version=1)
    assert records.get("thing", "a") is None
    with pytest.raises(NotFound):
        records.delete("thing", "a")


def test_delete_many_removes_the_keys_given_skips_missing_ones_and_leaves_the_rest(records):
    records.put_many(Record("work", f"job-1/{n:05d}", {"n": n}, parent="job-1") for n in range(60))
    records.put_many([Record("work", "job-2/00000", {"n": 0}, parent="job-2"), Record("other", "job-1/00000", {})])
    records.delete_many("work", [*(f"job-1/{n:05d}" for n in range(60)), "job-1/never-written", "job-1/00003"])
    assert [r.key for r in records.query("work")] == ["job-2/00000"]
    assert records.get("other", "job-1/00000") is not None  # another kind with the same key stays
    assert list(records.query("work", parent="job-1")) == []
    records.delete_many("work", [])


def test_concurrent_writers_from_threads_lose_no_update(records):
    """Eight threads increment one counter with optimistic retries: every increment lands exactly once."""
    records.create("counter", "c", {"n": 0})

    def bump(_):
        while True:
            rec = records.get("counter", "c")
            try:
                records.put("counter", "c", {"n": rec.body["n"] + 1}, expected_version=rec.version)
                return
            except VersionConflict:
                continue

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(40)))
    rec = records.get("counter", "c")
    assert rec.body["n"] == 40 and rec.version == 41


def test_concurrent_creates_of_one_key_have_one_winner(records):
    barrier = threading.Barrier(6)
    wins = []

    def create(i):
        barrier.wait()
        try:
            records.create("claim", "slot", {"by": i})
            wins.append(i)
        except AlreadyExists:
            pass

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert records.get("claim", "slot").body == {"by": wins[0]}


def test_a_second_handle_sees_committed_writes(records, reopen_records):
    records.create("thing", "a", {"n": 1})
    other = reopen_records(records)
    assert other.get("thing", "a").body == {"n": 1}
    other.put("thing", "a", {"n": 2}, expected_version=1)
    with pytest.raises(VersionConflict):
        records.put("thing", "a", {"n": 3}, expected_version=1)


def test_only_a_store_that_splits_big_bodies_sweeps_their_chunks(records, backend):
    from core.stores.base import ChunkedRecords

    assert isinstance(records, ChunkedRecords) == (backend != "local")
    if isinstance(records, ChunkedRecords):
        assert records.orphan_chunks(0.0) == []  # nothing written, nothing left behind
