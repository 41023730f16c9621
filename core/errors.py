"""Errors that carry a message a user can read and act on."""
from __future__ import annotations


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
                 current_body: dict | None = None):
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
