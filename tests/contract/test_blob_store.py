"""The blob contract: media stored once by content hash, on every backend."""
from __future__ import annotations

import hashlib

import pytest

from core.errors import NotFound


def test_put_file_stores_once_by_hash(blobs, tmp_path):
    src = tmp_path / "a.bin"
    src.write_bytes(b"hello media")
    sha = hashlib.sha256(b"hello media").hexdigest()
    assert blobs.put_file(sha, src) is True
    assert blobs.put_file(sha, src) is False
    assert blobs.exists(sha)
    with blobs.open(sha) as fh:
        assert fh.read() == b"hello media"
    assert blobs.local_path(sha).read_bytes() == b"hello media"


def test_missing_blob_is_not_found(blobs):
    with pytest.raises(NotFound):
        blobs.open("0" * 64)
    assert not blobs.exists("0" * 64)


def _put(blobs, tmp_path, content: bytes) -> str:
    src = tmp_path / f"{len(content)}.bin"
    src.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    blobs.put_file(sha, src)
    return sha


def test_stored_lists_every_blob_with_its_size_and_delete_removes_one(blobs, tmp_path):
    first, second = _put(blobs, tmp_path, b"one blob"), _put(blobs, tmp_path, b"another blob")
    assert sorted(blobs.stored(0.0)) == sorted([(first, 8), (second, 12)])
    assert list(blobs.stored(3600.0)) == []  # none is an hour old yet: a write in flight is never swept
    blobs.delete(first)
    blobs.delete(first)  # a missing blob is no error
    assert not blobs.exists(first) and blobs.exists(second)
    assert [sha for sha, _ in blobs.stored(0.0)] == [second]


def test_no_blob_write_leaves_a_partial_file(blobs, tmp_path):
    _put(blobs, tmp_path, b"complete")
    blobs.local_path(_put(blobs, tmp_path, b"read back through the cache"))
    assert blobs.partial_files(0.0) == []


def test_only_a_bucket_store_names_its_objects_to_aws_services(blobs, backend):
    from core.stores.base import S3Blobs

    assert isinstance(blobs, S3Blobs) == (backend == "moto")
