"""Where a finished human loop's `output.json` goes: under its flow definition's S3 output path, as A2I puts it.

The key is `<S3OutputPath>/<flow-definition>/YYYY/MM/DD/hh/mm/ss/<loop>/output.json` (the loop's creation time,
UTC). With an S3 media store (LOUPE_S3_BUCKET) the file is written to S3 through boto3, so the bucket of the
output path must be one the project's credentials may write. Without S3 (the local store) the same key is
written under `<data dir>/a2i-output/<bucket>/`, and the URI handed back is that file's `file://` URI: there is
no S3 object to point to, and an s3:// URI nobody can read would mislead.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from core.config import Config
from core.errors import LoupeError
from core.formats.a2i import output_path
from core.media_refs import LOCAL_BUCKET, parse_s3_uri

LOCAL_FOLDER = "a2i-output"


def default_output_path(config: Config) -> str:
    """The S3OutputPath of workflows made on the pages (they have no flow definition request of their own)."""
    return f"s3://{config.s3_bucket or LOCAL_BUCKET}/a2i-output/"


class A2IOutputs:
    def __init__(self, config: Config, s3_client_factory=None):
        self.config = config
        self._s3_client_factory = s3_client_factory
        self._s3 = None

    @property
    def local_root(self) -> Path:
        return self.config.data_dir / LOCAL_FOLDER

    def write(self, s3_output_path: str, flow_name: str, loop_name: str, created_at: str,
              doc: dict[str, Any]) -> str:
        """Write one output.json; returns its URI (s3:// on S3, file:// on the local store)."""
        ref = parse_s3_uri(s3_output_path.rstrip("/") + "/x")
        if ref is None:
            raise LoupeError(f"The flow definition's S3OutputPath {s3_output_path!r} is not an s3:// URI.")
        prefix = ref.name[:-1]  # what followed the bucket, with its trailing slash
        key = prefix + output_path(flow_name, loop_name, created_at)
        body = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
        if self.config.s3_bucket:
            self._client().put_object(Bucket=ref.bucket, Key=key, Body=body, ContentType="application/json")
            return f"s3://{ref.bucket}/{key}"
        path = self.local_root / ref.bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".output-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
        return path.resolve().as_uri()

    def _client(self):
        if self._s3 is None:
            from core.aws import make_client

            self._s3 = (self._s3_client_factory or (lambda: make_client("s3")))()
        return self._s3
