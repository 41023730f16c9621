"""The store contract runs against every backend: a fixture per backend, the same tests for all.

The local store always runs. DynamoDB backends run when their endpoint is given (as .ci/run does):
LOUPE_TEST_MOTO_ENDPOINT and LOUPE_TEST_DYNALITE_ENDPOINT, e.g. http://127.0.0.1:5055.
"""
from __future__ import annotations

import os
import uuid

import pytest

from core.stores.local import LocalBlobStore, SQLiteRecordStore

BACKENDS = ["local"]
if os.environ.get("LOUPE_TEST_MOTO_ENDPOINT"):
    BACKENDS.append("moto")
if os.environ.get("LOUPE_TEST_DYNALITE_ENDPOINT"):
    BACKENDS.append("dynalite")


def _open_records(backend: str, tmp_path):
    if backend == "local":
        return SQLiteRecordStore(tmp_path / "records.sqlite3")
    from tests.contract.dynamodb_backends import open_test_records  # added with the DynamoDB store

    return open_test_records(backend, table=f"contract-{uuid.uuid4().hex[:10]}")


def _open_blobs(backend: str, tmp_path):
    if backend in ("local", "dynalite"):
        return LocalBlobStore(tmp_path / "media")
    from tests.contract.dynamodb_backends import open_test_blobs

    return open_test_blobs(backend, bucket=f"contract-{uuid.uuid4().hex[:10]}", cache_dir=tmp_path / "cache")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def records(backend, tmp_path):
    store = _open_records(backend, tmp_path)
    yield store
    store.close()


@pytest.fixture
def reopen_records(backend, tmp_path):
    """Open the same store again, as a second process or a restart would."""
    opened = []

    def _reopen(store):
        again = _reopen_like(backend, store, tmp_path)
        opened.append(again)
        return again

    yield _reopen
    for s in opened:
        s.close()


def _reopen_like(backend, store, tmp_path):
    if backend == "local":
        return SQLiteRecordStore(store.path)
    from tests.contract.dynamodb_backends import reopen_test_records

    return reopen_test_records(backend, store)


@pytest.fixture
def blobs(backend, tmp_path):
    return _open_blobs(backend, tmp_path)
