"""Store backends and the factory that picks one from the configuration."""
from __future__ import annotations

from core.config import Config
from core.stores.base import BlobStore, Record, RecordStore


def open_stores(config: Config) -> tuple[RecordStore, BlobStore]:
    if config.store == "local":
        from core.stores.local import LocalBlobStore, SQLiteRecordStore

        return SQLiteRecordStore(config.data_dir / "loupe.sqlite3"), LocalBlobStore(config.data_dir / "media")
    if config.store == "dynamodb":
        from core.stores.dynamodb import open_dynamodb_stores  # added by the team-backend work

        return open_dynamodb_stores(config)
    raise ValueError(f"Unknown store {config.store!r}")


__all__ = ["BlobStore", "Record", "RecordStore", "open_stores"]
