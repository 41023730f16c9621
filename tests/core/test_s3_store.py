"""Media in S3 (moto): stored once under their sha256, served to other app servers from a local cache."""
from __future__ import annotations

import hashlib
import os
import uuid

from core.stores.s3 import S3BlobStore
from tests.contract.dynamodb_backends import open_test_blobs
from tests.dynamodb_servers import endpoint_for


def test_s3_media_are_stored_once_and_served_from_a_local_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_TEST_MOTO_ENDPOINT", endpoint_for("moto"))
    blobs = open_test_blobs("moto", f"unit-{uuid.uuid4().hex[:10]}", tmp_path / "cache")
    src = tmp_path / "clip.bin"
    src.write_bytes(os.urandom(2 * 1024 * 1024))
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert blobs.put_file(sha, src) is True and blobs.put_file(sha, src) is False
    other = S3BlobStore(blobs.bucket, tmp_path / "cache2", aws=blobs.aws)  # a second app server
    assert other.local_path(sha).read_bytes() == src.read_bytes()
    assert other.local_path(sha).parent.parent == tmp_path / "cache2"
    assert other.check().ok
    assert not S3BlobStore("no-such-bucket", tmp_path / "c3", aws=blobs.aws).check().ok
