"""The store contract for pages and counters: "the next N after a cursor" in key or sort order, reading related
records in one call, and counters that stay exact when two processes write at once."""
from __future__ import annotations

import pytest

from core.stores.base import Record, cursor_of
from tests.processes import run_together


def _all_pages(records, kind: str, **kwargs) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = records.page(kind, after=cursor, **kwargs)
        pages.append([r.key for r in page.records])
        cursor = page.cursor
        if cursor is None:
            return pages


def test_pages_in_key_order_follow_the_cursor_to_the_end(records):
    records.put_many(Record("item", f"k{i:02d}", {"i": i}) for i in range(7))
    records.create("other", "k00", {})
    assert _all_pages(records, "item", limit=3) == [["k00", "k01", "k02"], ["k03", "k04", "k05"], ["k06"]]
    assert _all_pages(records, "item", limit=3, descending=True) == [
        ["k06", "k05", "k04"], ["k03", "k02", "k01"], ["k00"]]


def test_a_last_page_that_is_exactly_full_has_no_cursor(records):
    records.put_many(Record("item", f"k{i}", {}) for i in range(4))
    first = records.page("item", limit=2)
    second = records.page("item", limit=2, after=first.cursor)
    assert [r.key for r in second.records] == ["k2", "k3"] and second.cursor is None
    assert records.page("nothing", limit=5).records == () and records.page("nothing", limit=5).cursor is None


def test_pages_in_sort_order_break_ties_by_key_and_keep_the_sort(records):
    sorts = {"a": "2026-01-02", "b": "2026-01-01", "c": "2026-01-02", "d": "2026-01-03", "e": ""}
    for key, sort in sorts.items():
        records.create("item", key, {"k": key}, sort=sort)
    assert _all_pages(records, "item", order="sort", limit=2) == [["e", "b"], ["a", "c"], ["d"]]
    assert _all_pages(records, "item", order="sort", limit=2, descending=True) == [["d", "c"], ["a", "b"], ["e"]]
    assert records.get("item", "a").sort == "2026-01-02"
    assert [r.sort for r in records.page("item", order="sort", limit=5).records] == sorted(sorts.values())


def test_pages_by_parent_see_only_that_parent_in_either_order(records):
    for i in range(6):
        records.create("media", f"m{i}", {"i": i}, parent="image" if i % 2 else "audio", sort=f"t{5 - i}")
    assert _all_pages(records, "media", parent="image", limit=2) == [["m1", "m3"], ["m5"]]
    assert _all_pages(records, "media", parent="image", order="sort", limit=2) == [["m5", "m3"], ["m1"]]
    assert _all_pages(records, "media", parent="audio", order="sort", limit=5, descending=True) == [["m0", "m2", "m4"]]


def test_a_put_moves_a_record_in_sort_order_and_keeps_it_when_passed_on(records):
    records.create("item", "a", {}, sort="1")
    records.create("item", "b", {}, sort="2")
    records.put("item", "a", {"n": 2}, expected_version=1, sort="3")
    assert [r.key for r in records.page("item", order="sort").records] == ["b", "a"]
    records.put_many([Record("item", "c", {}, sort="0")])
    assert [r.key for r in records.page("item", order="sort").records] == ["c", "b", "a"]


def test_a_cursor_cut_from_any_record_continues_after_it(records):
    records.put_many(Record("item", f"k{i}", {}, sort=f"s{9 - i}") for i in range(10))
    middle = records.get("item", "k4")
    rest = records.page("item", order="sort", after=cursor_of(middle, "sort"), limit=20)
    assert [r.key for r in rest.records] == ["k3", "k2", "k1", "k0"]
    with pytest.raises(ValueError):
        records.page("item", after="not a cursor")


def test_pages_read_through_many_records_in_order(records):
    records.put_many(Record("bulk", f"k{i:05d}", {"pad": "x" * 200}, sort=f"{i % 97:03d}") for i in range(600))
    seen = [key for page in _all_pages(records, "bulk", order="sort", limit=250) for key in page]
    expected = sorted((f"{i % 97:03d}", f"k{i:05d}") for i in range(600))
    assert seen == [key for _, key in expected]


def test_get_many_returns_the_records_that_exist(records):
    records.put_many(Record("item", f"k{i:03d}", {"i": i}) for i in range(230))
    found = records.get_many("item", [f"k{i:03d}" for i in range(0, 230, 2)] + ["missing", "k000"])
    assert sorted(found) == [f"k{i:03d}" for i in range(0, 230, 2)]
    assert found["k004"].body == {"i": 4}
    assert records.get_many("item", []) == {}
    assert sorted(records.get_many("item", ["k001", "k229", "nope"], consistent=False)) == ["k001", "k229"]


def test_counters_add_subtract_and_replace(records):
    assert records.counts("media") == {}
    records.add_counts("media", {"image.new": 2, "audio.new": 1})
    records.add_counts("media", {"image.new": -1, "image.labeled": 1, "zero": 0})
    assert records.counts("media") == {"image.new": 1, "audio.new": 1, "image.labeled": 1}
    records.set_counts("media", {"image.new": 7, "_ready": 1})
    assert records.counts("media") == {"image.new": 7, "_ready": 1}
    assert records.counts("other") == {}
    assert not any(r.kind.startswith("#") for r in records.scan())


def bump(backend: str, where: str, rounds: int) -> None:
    """One process: open the store on its own and add to two fields of one counter `rounds` times."""
    import os

    records = _open_again(backend, where)
    for i in range(rounds):
        records.add_counts("race", {"hits": 1, "weight": 2, f"odd.{os.getpid()}": i % 2})
    records.close()


def _open_again(backend: str, where: str):
    if backend == "local":
        from core.stores.local import SQLiteRecordStore

        return SQLiteRecordStore(where)
    from core.stores.dynamodb import DynamoDBRecordStore
    from tests.contract.dynamodb_backends import test_aws

    return DynamoDBRecordStore(where, aws=test_aws(backend))


def test_counters_stay_exact_under_two_writing_processes(records, backend):
    rounds = 60 if backend == "local" else 25
    where = str(records.path) if backend == "local" else records.table
    records.add_counts("race", {"hits": 1})
    run_together(f"{__name__}:bump", [[backend, where, rounds]] * 2)
    counts = records.counts("race")
    assert counts["hits"] == 2 * rounds + 1 and counts["weight"] == 4 * rounds
    assert sorted(v for k, v in counts.items() if k.startswith("odd.")) == [rounds // 2, rounds // 2]
