"""The team media store: media files in an S3 bucket under their sha256, with a local cache for decoders that need
a path."""
from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from core.aws import AwsConfig, explain_aws_error
from core.errors import NotFound, StoreUnavailable
from core.stores.aws_clients import error_code as _code
from core.stores.aws_clients import lazy_client as _lazy_client
from core.stores.base import StoreHealth


class S3BlobStore:
    """Media under s3://bucket/media/<sha256>, stored once; a local cache folder serves decoders that need a path."""

    def __init__(self, bucket: str, cache_dir: Path, *, aws: AwsConfig | None = None, client=None,
                 prefix: str = "media/"):
        self.bucket = bucket
        self.cache_dir = Path(cache_dir)
        self.aws = aws or AwsConfig()
        self.prefix = prefix
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self):
        return _lazy_client(self, "s3")

    def _what(self) -> str:
        return f"S3 bucket {self.bucket!r}"

    def _key(self, sha256: str) -> str:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"Not a sha256 hex digest: {sha256!r}")
        return self.prefix + sha256

    def _guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except StoreUnavailable:
            raise
        except Exception as exc:
            message = explain_aws_error(exc, what=self._what())
            if message and _code(exc) not in ("404", "NoSuchKey"):
                raise StoreUnavailable(message) from exc
            raise

    def put_file(self, sha256: str, src: Path) -> bool:
        key = self._key(sha256)
        if self.exists(sha256):
            return False
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        with open(src, "rb") as fh:
            # S3 checks the content against its sha256, so a wrong hash can never land under a key.
            self._guard(lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=fh, ChecksumSHA256=checksum))
        return True

    def exists(self, sha256: str) -> bool:
        key = self._key(sha256)
        try:
            self._guard(lambda: self.client.head_object(Bucket=self.bucket, Key=key))
            return True
        except StoreUnavailable:
            raise
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def open(self, sha256: str) -> BinaryIO:
        return self.local_path(sha256).open("rb")

    def local_path(self, sha256: str) -> Path:
        key = self._key(sha256)
        path = self.cache_dir / sha256[:2] / sha256
        if path.exists():
            return path  # content-addressed: a cached copy is never stale
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha256}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self._guard(lambda: self.client.download_file(self.bucket, key, str(tmp)))
        except StoreUnavailable:
            raise
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise NotFound("media file", sha256) from None
            raise
        os.replace(tmp, path)
        return path

    def partial_files(self, min_age_s: float) -> list[Path]:
        """Temp files of downloads to the local cache that a crash cut short, untouched for `min_age_s`."""
        now = time.time()
        return [p for p in self.cache_dir.glob("*/.*.tmp") if now - p.stat().st_mtime >= min_age_s]

    def stored(self, min_age_s: float) -> Iterator[tuple[str, int]]:
        """(sha256, bytes) of every media object uploaded at least `min_age_s` ago."""
        now = time.time()
        paginator = self.client.get_paginator("list_objects_v2")
        for page in self._guard(lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=self.prefix))):
            for obj in page.get("Contents", []):
                sha = obj["Key"][len(self.prefix):]
                if len(sha) == 64 and now - obj["LastModified"].timestamp() >= min_age_s:
                    yield sha, int(obj.get("Size", 0))

    def delete(self, sha256: str) -> None:
        key = self._key(sha256)
        self._guard(lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    def check(self) -> StoreHealth:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except StoreUnavailable as exc:
            return StoreHealth(False, str(exc))
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return StoreHealth(False, f"{self._what()} does not exist. Create it with `python -m core setup-aws`.")
            return StoreHealth(False, explain_aws_error(exc, what=self._what()) or f"{self._what()}: {exc}")
        return StoreHealth(True, f"{self._what()} is reachable.")

    def describe(self) -> str:
        return f"S3 bucket {self.bucket} (cache {self.cache_dir})"
