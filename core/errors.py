"""Errors that carry a message a user can read and act on."""
from __future__ import annotations

import errno
from typing import Any


class LoupeError(Exception):
    """Base for errors whose text is shown to a user as it is."""


class NotFound(LoupeError):
    def __init__(self, kind: str, key: str):
        super().__init__(f"No {kind} with id {key!r} exists.")
        self.kind = kind
        self.key = key


class AlreadyExists(LoupeError):
    def __init__(self, kind: str, key: str):
        super().__init__(f"A {kind} with id {key!r} already exists.")
        self.kind = kind
        self.key = key


class VersionConflict(LoupeError):
    """Someone else saved a newer version first. Both versions are kept; the caller decides."""

    def __init__(self, kind: str, key: str, expected_version: int | None, current_version: int | None,
                 current_body: dict[str, Any] | None = None):
        expected = "a new record" if expected_version is None else f"version {expected_version}"
        current = "no record" if current_version is None else f"version {current_version}"
        super().__init__(
            f"Conflict saving {kind} {key!r}: you edited {expected}, but the store now holds {current}. "
            "Nothing was overwritten; reload to see the newer version and save again."
        )
        self.kind = kind
        self.key = key
        self.expected_version = expected_version
        self.current_version = current_version
        self.current_body = current_body


class MediaRejected(LoupeError):
    """An upload that is not usable media. The message names the reason in plain words."""


class StoreUnavailable(LoupeError):
    """The store cannot be reached or used (credentials, missing table, access); the message says what to do."""


class WriteFailed(LoupeError):
    """Data could not be written (a full disk, a quota, a file size limit, an I/O error). Nothing was half-written:
    what was stored before is intact. The message names no server path."""


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def write_failed(what: str, exc: BaseException) -> WriteFailed:
    """A WriteFailed in words for a failed write of `what` ("the media file", "the record"), from an OSError or a
    sqlite3 error. SQLite says "database or disk is full" or "disk I/O error"; the OS gives an errno."""
    number = getattr(exc, "errno", None)
    text = str(exc).lower()
    if number in _FULL_ERRNOS or "disk is full" in text:
        reason = "the disk holding Loupe's data is full"
    elif number == errno.EFBIG:
        reason = "a file grew past the size limit the server runs under"
    elif number == errno.EIO or "disk i/o error" in text:
        reason = "the disk reported an input/output error (it may be full or failing)"
    elif number in (errno.EACCES, errno.EPERM, errno.EROFS) or "readonly" in text or "read-only" in text:
        reason = "the data folder is not writable"
    else:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
    return WriteFailed(f"Could not save {what}: {reason}. Nothing was half-written and what was saved before is "
                       "intact; free some space (or ask the operator to) and try again.")


def is_write_failure(exc: OSError) -> bool:
    """Whether an OSError means that writing failed for lack of room (disk, quota or file size limit)."""
    return exc.errno in _FULL_ERRNOS or exc.errno == errno.EFBIG


def describe_error(exc: BaseException) -> str:
    """Text for a person about any error: a LoupeError as it is; an OSError by its reason, never a server path."""
    if isinstance(exc, LoupeError):
        return str(exc)
    if isinstance(exc, OSError):
        if is_write_failure(exc):
            return str(write_failed("the data", exc))
        return f"{type(exc).__name__}: {exc.strerror or 'an operating system error'}"
    return f"{type(exc).__name__}: {exc}"


class ConfigError(LoupeError):
    """A `LOUPE_*` value that cannot be used; the message names the key, the value and where it was set."""
