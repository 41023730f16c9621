"""LabelColumns: merging changed and removed items gives exactly the columns read from scratch, and the stored form
round-trips or refuses to load."""
from __future__ import annotations

import random

import numpy as np
import pytest

from core.label_snapshots import LabelColumns

FIELDS = ("media_ids", "sample_points", "item_start", "category", "name", "confidence")


def random_labels(rng: random.Random) -> list[dict]:
    return [{"name": rng.choice(["Cat", "Dog", "Ému", "Gun", "a", "Z"]), "confidence": rng.random(),
             "category": rng.choice(["general", "moderation", "other"])} for _ in range(rng.randint(0, 4))]


def assert_same(got: LabelColumns, want: LabelColumns) -> None:
    for field in FIELDS:
        a, b = getattr(got, field), getattr(want, field)
        assert a.dtype == b.dtype and np.array_equal(a, b), field
    assert got.names == want.names


@pytest.mark.parametrize("seed", range(40))
def test_merging_changes_into_columns_equals_reading_the_result_from_scratch(seed):
    rng = random.Random(seed)
    store = {f"m{rng.randrange(60):02d}": random_labels(rng) for _ in range(rng.randint(0, 40))}
    columns = LabelColumns.from_raw(store.items())
    for _ in range(5):
        changed = {f"m{rng.randrange(70):02d}": random_labels(rng) for _ in range(rng.randint(0, 8))}
        removed = {m for m in rng.sample(sorted(store), min(len(store), rng.randint(0, 3)))} - changed.keys()
        store.update(changed)
        for m in removed:
            del store[m]
        columns = columns.merge(LabelColumns.from_raw(changed.items()), removed)
        columns.check()
        assert_same(columns, LabelColumns.from_raw(store.items()))
    assert_same(LabelColumns.from_bytes(columns.to_bytes()), columns)


def test_removing_an_item_that_is_not_there_changes_nothing():
    columns = LabelColumns.from_raw([("a", [{"name": "Cat", "confidence": 0.5}])])
    assert_same(columns.merge(LabelColumns.from_raw([]), {"zz"}), columns)


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"", lambda b: b"PK" + bytes(100)])
def test_damaged_stored_columns_refuse_to_load(damage):
    data = LabelColumns.from_raw([(f"m{i}", [{"name": "Cat", "confidence": 0.5}]) for i in range(50)]).to_bytes()
    with pytest.raises(Exception):  # noqa: B017  (whatever numpy or zipfile raises: loaders catch any and rebuild)
        LabelColumns.from_bytes(damage(data))


def test_columns_whose_offsets_do_not_fit_their_rows_fail_the_check():
    columns = LabelColumns.from_raw([("a", [{"name": "Cat", "confidence": 0.5}]), ("b", [])])
    broken = LabelColumns(columns.media_ids, columns.sample_points, np.array([0, 2, 1]), columns.category,
                          columns.name, columns.confidence, columns.names)
    with pytest.raises(ValueError):
        broken.check()
