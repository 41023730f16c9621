"""Where exports are written: a folder or an S3 prefix, and never outside it.

Every export writes through `Destination.write_files` (text, bytes, or a local file copied in, such as the media a
Ground Truth manifest names), the one place that checks that each relative path stays inside the destination's
root (no absolute path, no `..`, no symlink leading out) and that a file already there is replaced only by an
explicit choice. The app may only write under the configured exports root
(`LOUPE_EXPORT_DIR`) or the configured S3 prefix (`LOUPE_EXPORT_S3_PREFIX`), see `app_destination`; the command
line's operator names any folder or S3 prefix with `--out` (`operator_destination`).
"""
from __future__ import annotations

import logging
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from core.aws import aws_error_message, aws_error_types, make_client
from core.config import Config
from core.errors import LoupeError, write_failed

log = logging.getLogger(__name__)

_SUBFOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # one plain folder name under the exports root


def safe_relative(rel: str) -> PurePosixPath:
    """A relative path made of plain segments; LoupeError for an absolute path, `..`, `.`, or control characters."""
    text = str(rel)
    if not text or "\\" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise LoupeError(f"{text!r} is not a file name an export may write.")
    path = PurePosixPath(text)
    if path.is_absolute() or any(part in ("", ".", "..") for part in text.split("/")):
        raise LoupeError(f"{text!r} would be written outside the export folder, so it was not written.")
    return path


def resolve_inside(root: Path, rel: str) -> Path:
    """`root / rel`, resolved (symlinks followed), if it stays inside `root`; LoupeError otherwise."""
    base = root.resolve()
    target = (base / safe_relative(rel)).resolve()
    if not target.is_relative_to(base) or target == base:
        raise LoupeError(f"{rel!r} would be written outside the export folder, so it was not written.")
    return target


@dataclass(frozen=True)
class Destination:
    """A folder (`root`) or an S3 prefix (`bucket`, `prefix`); `label` is how it is shown to people."""
    label: str
    root: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def is_s3(self) -> bool:
        return self.root is None

    def write_files(self, files: Mapping[str, str | bytes | Path], *, overwrite: bool = False) -> list[str]:
        """Write every `relative path -> content` (text, bytes, or a local file whose bytes are copied); nothing is
        written if a path leads outside the root, or if a file is already there and `overwrite` is False (the message
        names it). Returns where each file went."""
        checked = {rel: self._target(rel) for rel in files}
        if not overwrite:
            taken = [rel for rel, target in checked.items() if self._exists(target)]
            if taken:
                more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
                raise LoupeError(f"{taken[0]}{more} already exist(s) in {self.label}. Nothing was overwritten: "
                                 "choose another folder, or choose to replace the files that are there.")
        return [self._write(checked[rel], content, overwrite=overwrite) for rel, content in files.items()]

    def _target(self, rel: str) -> Path | str:
        if self.is_s3:
            rel_path = safe_relative(rel)
            return f"{self.prefix}/{rel_path}" if self.prefix else str(rel_path)
        assert self.root is not None
        return resolve_inside(self.root, rel)

    def _exists(self, target: Path | str) -> bool:
        if isinstance(target, Path):
            return target.exists()
        from botocore.exceptions import ClientError

        try:
            self._s3().head_object(Bucket=self.bucket, Key=target)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._failed(exc) from exc
        except aws_error_types() as exc:
            raise self._failed(exc) from exc

    def _write(self, target: Path | str, content: str | bytes | Path, *, overwrite: bool) -> str:
        data = content.encode("utf-8") if isinstance(content, str) else content
        if isinstance(target, str):
            try:
                if isinstance(data, Path):
                    with open(data, "rb") as fh:
                        self._s3().put_object(Bucket=self.bucket, Key=target, Body=fh, ContentType=_file_type(target))
                else:
                    self._s3().put_object(Bucket=self.bucket, Key=target, Body=data, ContentType=_content_type(target))
            except aws_error_types() as exc:
                raise self._failed(exc) from exc
            except OSError as exc:
                raise LoupeError(f"{content!s} could not be read for {target}: {exc.strerror or exc}") from exc
            return f"s3://{self.bucket}/{target}"
        assert self.root is not None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            resolve_inside(self.root, str(target.relative_to(self.root.resolve())))  # a folder swapped for a link
            if overwrite:
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as fh:
                        _put(fh, data)
                    os.replace(tmp, target)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
            else:
                with open(target, "xb") as fh:  # create-only: a file that appeared meanwhile is kept
                    _put(fh, data)
        except FileExistsError:
            raise LoupeError(f"{target.name} already exists in {self.label}; nothing was overwritten.") from None
        except OSError as exc:
            raise write_failed("the export file", exc) from exc
        return str(target)

    def _s3(self):
        return self._client

    @cached_property
    def _client(self):
        try:
            return make_client("s3")
        except aws_error_types() as exc:  # NoRegionError and friends are raised when a client is made
            raise self._failed(exc) from exc

    def _failed(self, exc: BaseException) -> LoupeError:
        return LoupeError(aws_error_message(exc, what=f"S3 bucket {self.bucket!r}",
                                            permissions=("s3:PutObject", "s3:GetObject")))


def _put(fh, data: bytes | Path) -> None:
    if isinstance(data, Path):
        with open(data, "rb") as src:
            shutil.copyfileobj(src, fh, 1024 * 1024)
    else:
        fh.write(data)


def _content_type(key: str) -> str:
    return {"csv": "text/csv", "json": "application/json"}.get(key.rsplit(".", 1)[-1], "application/x-ndjson")


def _file_type(key: str) -> str:
    """A copied file's type (the media a manifest names), from its name."""
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _s3_parts(target: str) -> tuple[str, str]:
    bucket, _, prefix = target[5:].partition("/")
    if not bucket:
        raise LoupeError(f"{target!r} names no S3 bucket; use s3://bucket/prefix.")
    prefix = prefix.strip("/")
    if prefix:
        safe_relative(prefix)
    return bucket, prefix


def operator_destination(out: str) -> Destination:
    """The folder or `s3://bucket/prefix` the command line's operator named with `--out`."""
    text = (out or "").strip()
    if not text:
        raise LoupeError("--out is empty: name a folder (it is created if missing) or s3://bucket/prefix.")
    if text.startswith("s3://"):
        bucket, prefix = _s3_parts(text)
        return Destination(text, bucket=bucket, prefix=prefix)
    root = Path(text).expanduser()
    if root.exists() and not root.is_dir():
        raise LoupeError(f"--out {text} is a file; name a folder (it is created if missing) or s3://bucket/prefix.")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed("the export folder", exc) from exc
    return Destination(str(root), root=root)


def app_destination(config: Config, subfolder: str = "", *, to_s3: bool = False) -> Destination:
    """A destination the app (a page, a job) may write: a plain subfolder of the configured exports root, or of
    the configured S3 prefix. Any other path or bucket is refused in words."""
    sub = (subfolder or "").strip()
    if sub and not _SUBFOLDER.fullmatch(sub):
        raise LoupeError(f"{sub!r} is not a folder name exports can use: one name of letters, digits, '.', '_' or "
                         "'-' (no '/' or '..'), created under the exports folder.")
    if to_s3:
        if not config.export_s3_prefix:
            raise LoupeError("No S3 export prefix is configured: set LOUPE_EXPORT_S3_PREFIX=s3://bucket/prefix.")
        if not config.export_s3_prefix.startswith("s3://"):
            raise LoupeError(f"LOUPE_EXPORT_S3_PREFIX={config.export_s3_prefix!r} must look like s3://bucket/prefix.")
        bucket, prefix = _s3_parts(config.export_s3_prefix)
        prefix = "/".join(p for p in (prefix, sub) if p)
        return Destination(f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}", bucket=bucket, prefix=prefix)
    root = config.exports_root
    folder = root / sub if sub else root
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed("the export folder", exc) from exc
    shown = f"exports/{sub}" if sub else "exports"
    return Destination(shown, root=folder)
