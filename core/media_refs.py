"""Media named the way AWS requests name it: image bytes, an S3 object, or an A2I input's `taskObject`.

Bytes are ingested with the catalog's usual checks. An S3 object is an item of Loupe's media store when its
name is a media id, a media key (`media/<sha256>`) or a file name in the catalog; any other object in Loupe's own
bucket (LOUPE_S3_BUCKET) is fetched and ingested. Objects in other buckets are refused: the API reads nothing
Loupe was not given.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.catalog import Catalog
from core.config import Config
from core.domain import MediaItem
from core.errors import LoupeError, MediaRejected

LOCAL_BUCKET = "local"  # the bucket name A2I output gives media of the local store (core.formats.a2i)
MAX_S3_OBJECT_BYTES = 15 * 1024 * 1024  # Rekognition reads images up to 15 MB from S3
_SHA = re.compile(r"[0-9a-f]{64}")
_MAGIC = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG", ".png"), (b"GIF8", ".gif"), (b"RIFF", ".webp"))


class MediaNotFound(LoupeError):
    """The request names an object Loupe does not have and may not fetch."""


@dataclass(frozen=True)
class S3Ref:
    bucket: str
    name: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.name}"


def parse_s3_uri(uri: str) -> S3Ref | None:
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    bucket, _, name = uri[5:].partition("/")
    return S3Ref(bucket, name) if bucket and name else None


def _get(d: Mapping[str, Any], key: str) -> Any:
    """camelCase or PascalCase, as A2I and Rekognition spell the same field."""
    return d.get(key, d.get(key[:1].upper() + key[1:])) if isinstance(d, Mapping) else None


def reference_in(content: Mapping[str, Any]) -> S3Ref | None:
    """The media an A2I input names: Rekognition's `aiServiceRequest.image.s3Object`, or a custom task's
    `taskObject` / `source-ref` S3 URI."""
    s3 = _get(_get(_get(content, "aiServiceRequest") or {}, "image") or {}, "s3Object")
    if isinstance(s3, Mapping) and _get(s3, "bucket") and _get(s3, "name"):
        return S3Ref(str(_get(s3, "bucket")), str(_get(s3, "name")))
    for key in ("taskObject", "source-ref"):
        ref = parse_s3_uri(content.get(key, "")) if isinstance(content, Mapping) else None
        if ref:
            return ref
    return None


def upload_name(data: bytes) -> str:
    """A file name for bytes that came without one: their hash, with the extension their content says."""
    suffix = next((ext for magic, ext in _MAGIC if data.startswith(magic)), ".bin")
    return f"api-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"


class MediaRefs:
    def __init__(self, catalog: Catalog, config: Config, s3_client_factory=None):
        self.catalog = catalog
        self.config = config
        self._s3_client_factory = s3_client_factory
        self._s3: Any = None  # a boto3 S3 client, made on first use

    def ingest_bytes(self, data: bytes, *, created_by: str = "") -> MediaItem:
        """Store image bytes once (a duplicate is the same item); MediaRejected says why bytes are not usable."""
        name = upload_name(data)
        staged = self.catalog.stage_bytes(name, data)
        try:
            outcome = self.catalog.ingest_file(staged, name=name, created_by=created_by)
        finally:
            staged.unlink(missing_ok=True)
        if outcome.status == "rejected" or not outcome.media_id:
            raise MediaRejected(outcome.reason or "The bytes are not a usable image.")
        return self.catalog.get(outcome.media_id)

    def resolve(self, ref: S3Ref, *, created_by: str = "") -> MediaItem:
        """The media item an S3 reference names (fetching it from Loupe's own bucket if it is not one yet)."""
        own = {self.config.s3_bucket} if self.config.s3_bucket else {LOCAL_BUCKET}
        if ref.bucket not in own:
            raise MediaNotFound(f"Loupe reads only its own media: {ref.uri} is not in "
                                f"{' or '.join(sorted(own))}. Send the image bytes instead.")
        name = ref.name.removeprefix("media/")
        if _SHA.fullmatch(name):
            item = self.catalog.find(name)
            if item:
                return item
        item = self.catalog.find(ref.name)
        if item:
            return item
        if not self.config.s3_bucket:
            raise MediaNotFound(f"No media item is named {ref.name!r}.")
        return self.ingest_bytes(self._fetch(ref), created_by=created_by)

    def _fetch(self, ref: S3Ref) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._s3 is None:
            from core.aws import make_client

            self._s3 = (self._s3_client_factory or (lambda: make_client("s3")))()
        try:
            head = self._s3.head_object(Bucket=ref.bucket, Key=ref.name)
            if head["ContentLength"] > MAX_S3_OBJECT_BYTES:
                raise MediaRejected(f"{ref.uri} is {head['ContentLength']:,} bytes; images from S3 may be at most "
                                    f"{MAX_S3_OBJECT_BYTES:,}.")
            return self._s3.get_object(Bucket=ref.bucket, Key=ref.name)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise MediaNotFound(f"Could not read {ref.uri}: {exc}") from None
