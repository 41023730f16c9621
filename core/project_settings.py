"""Project settings: labeling and transcription choices saved with the project, over the configuration defaults.

One record (kind "project_settings", key "project") holds the overrides an admin saved in Settings; the
effective value of a setting is its override if one is stored, else the `Config` (environment) value. Saves
name the version they edited, so two admins saving at once get a `VersionConflict` and nothing is overwritten.
Labeling and transcription read `effective()` when they run, so a change takes effect without a restart.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from core import labelers
from core.access import OPEN, Access, Actor
from core.config import Config
from core.domain import utc_now
from core.errors import AlreadyExists, LoupeError, VersionConflict
from core.stores.base import RecordStore
from core.transcribers import check_engine

KIND = "project_settings"
KEY = "project"
BEAM_SIZES = range(1, 11)
CAPTION_GAP_MS = range(0, 60_001)
CAPTION_LINE_CHARS = range(10, 201)
CAPTION_LINES = range(1, 5)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


@dataclass(frozen=True)
class EffectiveSettings:
    """The values labeling and transcription use now; field names are those of `Config`."""
    labeler: str
    auto_label: bool
    transcriber: str  # "tiny.en", "base", a CTranslate2 Whisper folder, or "amazon-transcribe"
    transcriber_language: str  # "" detects the language
    transcriber_vad: bool
    transcriber_beam_size: int
    caption_gap_ms: int
    caption_line_chars: int
    caption_lines: int

    @classmethod
    def from_config(cls, config: Config, overrides: Mapping[str, Any] | None = None) -> EffectiveSettings:
        overrides = overrides or {}
        return cls(**{f.name: overrides.get(f.name, getattr(config, f.name)) for f in fields(cls)})


SETTING_NAMES = tuple(f.name for f in fields(EffectiveSettings))
TITLES = {"labeler": "Labeler", "auto_label": "Auto-label after upload", "transcriber": "Transcription engine",
          "transcriber_language": "Language", "transcriber_vad": "Skip silence (VAD)",
          "transcriber_beam_size": "Beam size", "caption_gap_ms": "Caption gap (ms)",
          "caption_line_chars": "Caption line length", "caption_lines": "Caption lines"}


@dataclass(frozen=True)
class StoredSettings:
    """The saved overrides and the version to name when saving again (0: nothing saved yet)."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    version: int = 0
    saved_by: str = ""
    saved_at: str = ""


class SettingsInvalid(LoupeError):
    """Some values can't be used; the message lists each one in plain words. Nothing was saved."""

    def __init__(self, problems: list[str]):
        super().__init__("Nothing was saved: " + " ".join(problems))
        self.problems = tuple(problems)


class ProjectSettings:
    def __init__(self, records: RecordStore, config: Config, access: Access = OPEN):
        self.access = access
        self.records = records
        self.config = config

    def defaults(self) -> EffectiveSettings:
        """The configuration (environment) values, used where nothing is saved."""
        return EffectiveSettings.from_config(self.config)

    def stored(self) -> StoredSettings:
        record = self.records.get(KIND, KEY)
        if record is None:
            return StoredSettings()
        overrides = {k: v for k, v in record.body.get("overrides", {}).items() if k in SETTING_NAMES}
        return StoredSettings(overrides, record.version, record.body.get("saved_by", ""),
                              record.body.get("saved_at", ""))

    def effective(self) -> EffectiveSettings:
        """The values in force now: saved overrides over the configuration (one store read)."""
        return EffectiveSettings.from_config(self.config, self.stored().overrides)

    def validate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values, cleaned; raises SettingsInvalid naming every problem."""
        problems: list[str] = []
        clean: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in SETTING_NAMES:
                problems.append(f"{name!r} is not a setting (choose from {', '.join(SETTING_NAMES)}).")
                continue
            try:
                clean[name] = self._clean(name, raw)
            except LoupeError as exc:
                problems.append(f"{TITLES[name]}: {exc}")
        if problems:
            raise SettingsInvalid(problems)
        return clean

    def save(self, values: Mapping[str, Any], *, expected_version: int, saved_by: str = "",
             actor: Actor | None = None) -> StoredSettings:
        """Store these values over the saved ones. A value equal to the configuration default is not stored, so
        it follows the configuration. `expected_version` is `stored().version` as the editor saw it. Admins only."""
        current = self.access.require(actor, "settings")
        saved_by = saved_by if current.is_local else current.id
        clean = self.validate(values)
        defaults = self.defaults()
        merged = {**self.stored().overrides, **clean} if expected_version else dict(clean)
        overrides = {k: v for k, v in merged.items() if v != getattr(defaults, k)}
        return self._write(overrides, expected_version=expected_version, saved_by=saved_by, actor=current)

    def reset(self, *, expected_version: int, saved_by: str = "", actor: Actor | None = None) -> StoredSettings:
        """Drop every override, so the configuration defaults apply again. Admins only."""
        current = self.access.require(actor, "settings")
        saved_by = saved_by if current.is_local else current.id
        return self._write({}, expected_version=expected_version, saved_by=saved_by, actor=current, what="reset")

    def _write(self, overrides: dict[str, Any], *, expected_version: int, saved_by: str, actor: Actor,
               what: str = "saved") -> StoredSettings:
        body: dict[str, Any] = {"overrides": overrides, "saved_by": saved_by, "saved_at": utc_now()}
        if expected_version:
            record = self.records.put(KIND, KEY, body, expected_version=expected_version)
        else:
            try:
                record = self.records.create(KIND, KEY, body)
            except AlreadyExists:
                current = self.records.get(KIND, KEY)
                raise VersionConflict(KIND, KEY, None, current.version if current else None,
                                      current.body if current else None) from None
        self.access.record(actor, "settings", "settings", before_version=expected_version or None,
                           after_version=record.version, detail=f"{what}: {', '.join(sorted(overrides)) or 'defaults'}")
        return StoredSettings(overrides, record.version, saved_by, body["saved_at"])

    def _clean(self, name: str, raw: Any) -> Any:
        if name == "labeler":
            if raw not in labelers.available():
                raise LoupeError(f"{raw!r} is not a labeler; choose {' or '.join(labelers.available())}.")
            return raw
        if name in ("auto_label", "transcriber_vad"):
            if not isinstance(raw, bool):
                raise LoupeError(f"{raw!r} is not on or off.")
            return raw
        if name == "transcriber":
            spec = str(raw).strip()
            if not spec:
                raise LoupeError("choose an engine: 'tiny.en', 'base', 'amazon-transcribe' or a model folder.")
            check_engine(spec, s3_bucket=self.config.s3_bucket, cache_dir=self.config.data_dir / "models")
            return spec
        if name == "transcriber_language":
            code = str(raw).strip()
            if code and not _LANGUAGE.match(code):
                raise LoupeError(f"{code!r} is not a language code; give one such as en, de or fr (en-US for Amazon "
                                 "Transcribe), or leave it empty to detect the language.")
            return code
        allowed = {"transcriber_beam_size": BEAM_SIZES, "caption_gap_ms": CAPTION_GAP_MS,
                   "caption_line_chars": CAPTION_LINE_CHARS, "caption_lines": CAPTION_LINES}[name]
        if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).strip().lstrip("-").isdigit():
            raise LoupeError(f"{raw!r} is not a whole number.")
        number = int(raw)
        if number not in allowed:
            raise LoupeError(f"{number} is outside {allowed.start}..{allowed.stop - 1}.")
        return number
