"""Configuration: how this deployment runs, from `LOUPE_*` environment variables or the same keys in
`.streamlit/secrets.toml`, typed by the fields below and checked once, when the service is built.

Words used for three things: *configuration* (this module: fixed while the process runs), *settings* (what an
admin saves on the Settings page over the configuration: core/project_settings.py), and Streamlit's own
*options* (`.streamlit/config.toml`; the upload limit among them is derived from `LOUPE_MAX_UPLOAD_BYTES`).
AWS settings are boto3's own (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials chain); Loupe invents none.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass

from core.errors import ConfigError

APP_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "LOUPE_"
SECRETS_FILE = ".streamlit/secrets.toml"
MIB = 1024 * 1024

Store = Literal["local", "dynamodb"]
STORES: tuple[str, ...] = get_args(Store)
Auth = Literal["none", "oidc"]  # none: a typed name, everyone acts as admin (one person, loopback); oidc: st.login
AUTHS: tuple[str, ...] = get_args(Auth)
DaskMode = Literal["off", "local"]
DASK_MODES: tuple[str, ...] = get_args(DaskMode)


def _folder(value: Any) -> Any:
    """A folder named in text (env, secrets.toml) is taken from the home folder and made absolute, as a shell would."""
    return Path(value.strip()).expanduser().resolve() if isinstance(value, str) else value


Folder = Annotated[Path, BeforeValidator(_folder)]
Count = Annotated[int, Field(ge=1)]


@dataclass(frozen=True, config=ConfigDict(strict=False))
class Config:
    """Every field is read from `LOUPE_<FIELD NAME>`; a value of the wrong type is refused when this is built."""
    data_dir: Folder = APP_ROOT / "loupe-data"
    store: Store = "local"
    max_upload_bytes: Count = 500 * MIB  # also Streamlit's server.maxUploadSize: see upload_limit_mb
    max_image_pixels: Count = 80_000_000
    max_files_per_batch: Count = 200  # files one upload may hold; a bigger batch is refused in words
    max_media_duration_s: Count = 12 * 3600  # longer audio or video is refused at ingest
    job_workers: Count = 2
    dynamodb_table: str = "loupe"
    s3_bucket: str = ""
    labeler: str = "local"
    transcriber: str = "tiny.en"  # "tiny.en", "base", a CTranslate2 Whisper folder, or "amazon-transcribe"
    transcriber_language: str = ""  # "" detects the language (multilingual models and Amazon Transcribe)
    transcriber_beam_size: Count = 5
    transcriber_vad: bool = True
    # CTranslate2 threads per Whisper run. One: tiny.en is faster on one thread than on two (5.35 s against 6.15 s
    # for a 2-minute clip on 2 idle cores; base 11.2 s against 10.1 s for 24% more CPU), and a second thread stalls
    # whenever anything else runs; files and windows spread over worker processes instead (core/cluster.py)
    transcriber_threads: Count = 1
    # Whisper transcribes this much audio at a time: it bounds memory (300 s is about 20 MB of samples), and a longer
    # file is split into windows of this length that different workers transcribe (one chunk each), so a 10-minute
    # file keeps two workers busy
    transcribe_window_s: Count = 300
    caption_gap_ms: Annotated[int, Field(ge=0)] = 1500  # a new caption after this much silence
    caption_line_chars: Count = 42
    caption_lines: Count = 2
    auto_label: bool = True  # new images are labeled once their upload is ingested (Settings can switch it off)
    export_dir: Folder = Path()  # the only folder the app writes exports under; unset: <data_dir>/exports
    export_s3_prefix: str = ""  # the only s3://bucket/prefix the app exports to; unset: no S3 export from the app
    auth: Auth = "none"
    admins: str = ""  # emails that are admins whatever the store says, comma-separated: bootstraps the first admin
    webhook_urls: str = ""  # where loop status events go (comma-separated http(s) URLs); core/webhooks.py
    webhook_secret: str = ""  # the HMAC key of their X-Loupe-Signature header
    # Where model work (labeling, transcription) runs: core/cluster.py. "off" runs it on the job threads of this
    # process (Config's default: tests of core, scripts); "local" starts a local Dask cluster of worker processes
    # (what `make run` sets). A scheduler address (tcp://host:8786) sends it to that cluster, whatever `dask` says.
    dask: DaskMode = "off"
    dask_scheduler: str = ""
    dask_workers: Annotated[int, Field(ge=0)] = 0  # local cluster size; 0 sizes it to the machine (CPUs and memory)
    dask_memory_limit: str = "auto"  # per local worker, in Dask's words ("2GiB", "auto": the machine's memory / n)
    dask_chunk_images: Count = 32  # images per task on the cluster
    # the labeler's images at once (each on one thread) per process; 0: min(2, CPUs). Whisper: transcriber_threads
    model_threads: Annotated[int, Field(ge=0)] = 0

    def __post_init__(self) -> None:
        if self.export_dir == Path():
            object.__setattr__(self, "export_dir", self.data_dir / "exports")

    @property
    def admin_emails(self) -> frozenset[str]:
        """`LOUPE_ADMINS`, each email trimmed and lower-cased as members' emails are."""
        return frozenset(e.strip().lower() for e in self.admins.split(",") if e.strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, secrets: Mapping[str, object] | None = None) -> Config:
        """Read `LOUPE_*` keys; environment variables win over secrets.toml entries of the same name.

        A value that is not of its field's type raises ConfigError naming the key, the value and where it came from.
        """
        env = os.environ if env is None else env
        origin: dict[str, str] = {}
        values: dict[str, str] = {}
        for source, where in ((secrets or {}, SECRETS_FILE), (env, "the environment")):
            for f in fields(cls):
                raw = source.get(PREFIX + f.name.upper())
                if raw is not None and str(raw).strip() != "":  # an empty value keeps the default
                    values[f.name], origin[f.name] = str(raw).strip(), where
        try:
            return cls(**cast(dict[str, Any], values))  # strings, which pydantic converts and checks per field
        except ValidationError as exc:
            raise ConfigError(_in_words(exc, origin)) from None

    @property
    def runs_on_dask(self) -> bool:
        """Whether model work goes to a Dask cluster (local or a team's) rather than this process's job threads."""
        return bool(self.dask_scheduler.strip()) or self.dask == "local"

    @property
    def exports_root(self) -> Path:
        """The one folder the app (pages and jobs) writes exports under (LOUPE_EXPORT_DIR)."""
        return self.export_dir

    @property
    def max_upload_mb(self) -> float:
        return self.max_upload_bytes / MIB

    @property
    def upload_limit_mb(self) -> int:
        """Streamlit's `server.maxUploadSize` (whole MB) that lets every file Loupe accepts through, and no more
        than a part of a MB besides; Loupe's own check then refuses the rest in words."""
        return max(1, math.ceil(self.max_upload_bytes / MIB))


_WHY = {
    "int_parsing": "it must be a whole number",
    "int_from_float": "it must be a whole number",
    "bool_parsing": "it must be true or false (1/0, yes/no, on/off)",
    "literal_error": "it must be one of {expected}",
    "greater_than_equal": "it must be at least {ge}",
    "path_type": "it must be a folder path",
}


def _in_words(exc: ValidationError, origin: Mapping[str, str]) -> str:
    problems = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        if err["type"] == "literal_error":
            choices = {"store": STORES, "auth": AUTHS, "dask": DASK_MODES}.get(name)
            ctx["expected"] = ", ".join(choices) if choices else ctx.get("expected", "")
        why = _WHY[err["type"]].format(**ctx) if err["type"] in _WHY else err["msg"]
        where = f" (from {origin[name]})" if name in origin else ""
        problems.append(f"{PREFIX}{name.upper()}={err.get('input')!r}{where} cannot be used: {why}.")
    return " ".join(problems) + " Fix the value and start Loupe again."
