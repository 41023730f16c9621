"""Media counts come from store counters kept as items are ingested and change status, and they stay exact when two
processes write at once, on SQLite and on DynamoDB (dynalite)."""
from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest

from core.catalog import COUNTER, KIND, Catalog
from core.config import Config
from core.stores.local import LocalBlobStore, SQLiteRecordStore
from tests.dynamodb_servers import endpoint_for
from tests.media_factory import make_image
from tests.processes import run_together

STATUSES = ("labeled", "in_review", "reviewed", "new")


def _open(backend: str, data_dir: Path, table: str):
    config = Config(data_dir=data_dir)
    if backend == "local":
        records = SQLiteRecordStore(data_dir / "loupe.sqlite3")
    else:
        from tests.contract.dynamodb_backends import open_test_records

        records = open_test_records(backend, table)
    return Catalog(records, LocalBlobStore(data_dir / "media"), config), records


def write(backend: str, data_dir: str, table: str, shared: str, seed: int) -> None:
    """One process: ingest its own images, then move them and one shared item through the statuses."""
    catalog, records = _open(backend, Path(data_dir), table)
    files = [make_image(Path(data_dir) / f"p{seed}-{i}.png", seed=seed * 100 + i) for i in range(4)]
    ids = [catalog.ingest_file(f).media_id for f in files]
    for round_ in range(6):
        catalog.set_status(shared, STATUSES[(round_ + seed) % len(STATUSES)])
        for media_id in ids:
            catalog.set_status(media_id, STATUSES[round_ % len(STATUSES)])
    records.close()


def _true_cells(records) -> dict[str, int]:
    cells = Counter(f"{r.body['kind']}.{r.body['status']}" for r in records.query(KIND))
    return {k: v for k, v in cells.items() if v}


@pytest.mark.parametrize("backend", ["local", "dynalite"])
def test_counts_stay_exact_while_two_processes_ingest_and_change_statuses(backend, tmp_path, monkeypatch):
    endpoint = endpoint_for("dynalite") if backend == "dynalite" else ""
    if endpoint:
        monkeypatch.setenv("LOUPE_TEST_DYNALITE_ENDPOINT", endpoint)
    table = f"counts-{uuid.uuid4().hex[:10]}"
    catalog, records = _open(backend, tmp_path, table)
    shared = catalog.ingest_file(make_image(tmp_path / "shared.png", seed=999)).media_id
    run_together(f"{__name__}:write", [[backend, str(tmp_path), table, shared, seed] for seed in (1, 2)])
    counted = {k: v for k, v in catalog.cells().items() if v}
    assert counted == _true_cells(records) and sum(counted.values()) == 9
    assert catalog.counts()["by_kind"]["image"] == 9
    records.close()


def test_a_store_from_before_counters_is_counted_once_and_given_its_sort_order(tmp_path):
    catalog, records = _open("local", tmp_path, "")
    item = catalog.ingest_file(make_image(tmp_path / "a.png")).media_id
    rec = records.get(KIND, item)
    records.put(KIND, item, rec.body, expected_version=rec.version, parent=rec.parent)  # as written before sort
    records.set_counts(COUNTER, {})
    assert records.get(KIND, item).sort == "" and records.counts(COUNTER) == {}
    assert catalog.counts()["by_status"]["new"] == 1
    assert records.get(KIND, item).sort == rec.body["created_at"]


def test_statuses_set_in_bulk_move_the_counts_in_one_update(tmp_path):
    catalog, records = _open("local", tmp_path, "")
    ids = [catalog.ingest_file(make_image(tmp_path / f"{i}.png", seed=i)).media_id for i in range(3)]
    catalog.set_status(ids[0], "labeled")
    assert catalog.set_statuses([*ids, "not-an-item"], "labeled") == 2
    assert catalog.counts()["by_status"]["labeled"] == 3 and catalog.counts()["by_status"]["new"] == 0
    assert {k: v for k, v in catalog.cells().items() if v} == _true_cells(records)
    assert records.get(KIND, ids[1]).sort == catalog.get(ids[1]).created_at
