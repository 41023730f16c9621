"""Configuration from environment variables, with the same keys allowed in `.streamlit/secrets.toml`.

AWS settings are boto3's own (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials chain); Loupe invents none.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parent.parent

STORES = ("local", "dynamodb")


@dataclass(frozen=True)
class Config:
    data_dir: Path = APP_ROOT / "loupe-data"
    store: str = "local"
    max_upload_bytes: int = 500 * 1024 * 1024
    max_image_pixels: int = 80_000_000
    max_files_per_batch: int = 200  # files one upload may hold; a bigger batch is refused in words
    max_media_duration_s: int = 12 * 3600  # longer audio or video is refused at ingest
    job_workers: int = 2
    dynamodb_table: str = "loupe"
    s3_bucket: str = ""
    labeler: str = "local"
    transcriber: str = "tiny.en"  # "tiny.en", "base", a CTranslate2 Whisper folder, or "amazon-transcribe"
    transcriber_language: str = ""  # "" detects the language (multilingual models and Amazon Transcribe)
    transcriber_beam_size: int = 5
    transcriber_vad: bool = True
    caption_gap_ms: int = 1500  # a new caption after this much silence
    caption_line_chars: int = 42
    caption_lines: int = 2
    auto_label: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, secrets: Mapping[str, object] | None = None) -> "Config":
        """Read `LOUPE_*` keys; environment variables win over secrets.toml entries of the same name."""
        env = os.environ if env is None else env
        merged: dict[str, object] = {k: v for k, v in (secrets or {}).items() if isinstance(k, str)}
        merged.update({k: v for k, v in env.items() if k.startswith("LOUPE_")})
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = merged.get(f"LOUPE_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        config = cls(**values)
        if config.store not in STORES:
            raise ValueError(f"LOUPE_STORE must be one of {', '.join(STORES)}, not {config.store!r}.")
        return config

    @property
    def max_upload_mb(self) -> float:
        return self.max_upload_bytes / (1024 * 1024)


def _coerce(name: str, type_name: object, raw: object) -> object:
    text = str(raw).strip()
    kind = str(type_name)
    try:
        if "Path" in kind:
            return Path(text).expanduser().resolve()
        if "bool" in kind:
            return text.lower() in ("1", "true", "yes", "on")
        if "int" in kind:
            return int(float(text))
    except ValueError as exc:
        raise ValueError(f"LOUPE_{name.upper()}={text!r} is not a valid value: {exc}") from exc
    return text
