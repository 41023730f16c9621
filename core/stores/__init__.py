"""Store backends and the factory that picks one from the configuration."""
from __future__ import annotations

import logging

from core.config import Config
from core.stores.base import BlobStore, Record, RecordStore

log = logging.getLogger(__name__)


def open_stores(config: Config) -> tuple[RecordStore, BlobStore]:
    if config.store == "local":
        from core.stores.local import LocalBlobStore, SQLiteRecordStore

        return SQLiteRecordStore(config.data_dir / "loupe.sqlite3"), LocalBlobStore(config.data_dir / "media")
    if config.store == "dynamodb":
        return _open_team_stores(config)
    raise ValueError(f"Unknown store {config.store!r}")


def _open_team_stores(config: Config) -> tuple[RecordStore, BlobStore]:
    """Records in DynamoDB; media in S3, or, with no bucket configured, in the local media folder."""
    from core.stores.dynamodb import DynamoDBRecordStore

    records = DynamoDBRecordStore(config.dynamodb_table)
    if config.s3_bucket:
        from core.stores.s3 import S3BlobStore

        return records, S3BlobStore(config.s3_bucket, config.data_dir / "s3-cache")
    from core.stores.local import LocalBlobStore

    log.warning("LOUPE_S3_BUCKET is not set: media stay in %s, visible only to app servers sharing that folder",
                config.data_dir / "media")
    return records, LocalBlobStore(config.data_dir / "media")


__all__ = ["BlobStore", "Record", "RecordStore", "open_stores"]
