"""`python -m core setup-aws` and `migrate` against moto_server: create once, copy a project both ways, resume."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.aws import make_client
from core.cli import main
from core.config import Config
from core.migration import migrate
from core.service import Service
from core.stores.base import Record
from core.stores.dynamodb import DynamoDBRecordStore
from core.stores.local import LocalBlobStore, SQLiteRecordStore
from tests.dynamodb_servers import aws_env, endpoint_for
from tests.media_factory import make_image, make_wav

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def team_env(monkeypatch, tmp_path) -> dict[str, str]:
    env = {**aws_env(endpoint_for("moto")), "LOUPE_DYNAMODB_TABLE": f"cli-{uuid.uuid4().hex[:8]}",
           "LOUPE_S3_BUCKET": f"cli-{uuid.uuid4().hex[:8]}", "LOUPE_DATA_DIR": str(tmp_path / "local")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOUPE_STORE", "local")
    return env


def test_setup_aws_creates_the_table_and_bucket_once(team_env, tmp_path):
    run = lambda: subprocess.run([sys.executable, "-m", "core", "setup-aws"], cwd=ROOT, capture_output=True,  # noqa: E731
                                 text=True, timeout=120, env={**os.environ, **team_env})
    first = run()
    assert first.returncode == 0, first.stderr
    assert "table" in first.stdout and first.stdout.count("created") == 2
    second = run()
    assert second.returncode == 0 and second.stdout.count("already exists") == 2
    desc = make_client("dynamodb").describe_table(TableName=team_env["LOUPE_DYNAMODB_TABLE"])["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {i["IndexName"] for i in desc["GlobalSecondaryIndexes"]} == {"by_kind", "by_parent", "by_kind_sort",
                                                                 "by_parent_sort"}


def test_the_app_never_creates_the_table_by_itself(team_env, monkeypatch, tmp_path):
    monkeypatch.setenv("LOUPE_STORE", "dynamodb")
    svc = Service(Config.from_env(), start_jobs=True)  # starts even so, to explain itself on Settings
    try:
        health = svc.check_backends()
        assert not health["records"].ok and "setup-aws" in health["records"].message
        assert not health["media"].ok and "does not exist" in health["media"].message
    finally:
        svc.close()
    assert team_env["LOUPE_DYNAMODB_TABLE"] not in make_client("dynamodb").list_tables()["TableNames"]


def test_migrate_copies_a_project_to_dynamodb_and_back(team_env, monkeypatch, tmp_path, capsys):
    local = Service(Config.from_env(), start_jobs=False)
    for path in [make_image(tmp_path / "a.png", fmt="PNG"), make_wav(tmp_path / "b.wav", seconds=0.5)]:
        assert local.catalog.ingest_file(path, created_by="ann").status == "ingested"
    local.records.put_many(Record("prediction", f"p{i}", {"i": i}, parent="m") for i in range(30))
    local.records.create("answer", "loop1|ann", {"answer": "<script>alert(1)</script>"}, parent="loop1")
    local.records.put("answer", "loop1|ann", {"answer": "cat"}, expected_version=1, parent="loop1")
    local.close()
    assert main(["setup-aws"]) == 0

    assert main(["migrate", "--to", "dynamodb"]) == 0
    out = capsys.readouterr().out
    assert "media files: 2 copied" in out and "Done." in out
    assert main(["migrate", "--to", "dynamodb"]) == 0  # again: nothing left to copy
    out = capsys.readouterr().out
    assert "media files: 0 copied, 2 already there" in out and " 30 " in out

    monkeypatch.setenv("LOUPE_STORE", "dynamodb")
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "back"))
    assert main(["migrate", "--to", "local"]) == 0
    back = Service(Config(data_dir=tmp_path / "back"), start_jobs=False)
    try:
        assert back.records.count("prediction") == 30 and back.records.count("media") == 2
        answer = back.records.get("answer", "loop1|ann")
        assert answer.version == 2 and answer.body == {"answer": "cat"} and answer.parent == "loop1"
        for item in back.catalog.list():
            assert back.blobs.local_path(item.media_id).stat().st_size == item.size_bytes
    finally:
        back.close()


class FailingAfter:
    """A destination that dies after some batches, as a killed process or a dropped connection would."""

    def __init__(self, inner, batches: int):
        self.inner, self.batches = inner, batches

    def put_many(self, records):
        if self.batches == 0:
            raise ConnectionError("connection dropped")
        self.batches -= 1
        return self.inner.put_many(records)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_an_interrupted_migration_resumes_where_it_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_TEST_MOTO_ENDPOINT", endpoint_for("moto"))
    from tests.contract.dynamodb_backends import open_test_records

    src = SQLiteRecordStore(tmp_path / "src.sqlite3")
    src.put_many(Record("prediction", f"p{i:03d}", {"i": i}, version=1 + i % 3) for i in range(250))
    dst = open_test_records("moto", f"mig-{uuid.uuid4().hex[:8]}")
    blobs = LocalBlobStore(tmp_path / "media")
    with pytest.raises(ConnectionError):
        migrate(src, blobs, FailingAfter(dst, batches=1), blobs, batch_size=100)
    assert dst.count("prediction") == 100
    report = migrate(src, blobs, dst, blobs, batch_size=100)
    assert report.skipped["prediction"] == 100 and report.copied["prediction"] == 150
    assert report.is_complete and report.counts == {"prediction": (250, 250)}
    assert [r.version for r in dst.query("prediction")] == [1 + i % 3 for i in range(250)]
    assert isinstance(dst, DynamoDBRecordStore)
