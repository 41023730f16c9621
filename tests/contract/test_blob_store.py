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
