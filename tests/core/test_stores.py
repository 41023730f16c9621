"""The store factory: the configured backend's record store and media store."""
from __future__ import annotations

from core.config import Config
from core.stores import open_stores
from core.stores.dynamodb import DynamoDBRecordStore
from core.stores.local import LocalBlobStore


def test_without_a_bucket_media_stay_in_the_local_folder(tmp_path):
    records, blobs = open_stores(Config(data_dir=tmp_path, store="dynamodb", dynamodb_table="t"))
    assert isinstance(records, DynamoDBRecordStore) and isinstance(blobs, LocalBlobStore)
    assert blobs.root == tmp_path / "media"
