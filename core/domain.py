"""Loupe's domain values: frozen dataclasses for media, predictions, transcripts, loops, answers and jobs.

Confidence is a float from 0 to 1 everywhere in core; adapters convert AWS's 0-100 at the edge.
`as_dict` / `from_dict` turn any of these into JSON-ready dicts and back, which is how stores keep them.
"""
from __future__ import annotations

import dataclasses
import time
import types
import typing
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar, cast

from core.routing_policy import RoutingPolicy

MEDIA_KINDS = ("image", "audio", "video")
MEDIA_STATUSES = ("new", "labeled", "transcribed", "in_review", "reviewed")


def iso_time(epoch_s: float) -> str:
    """An ISO 8601 UTC timestamp with milliseconds, the form A2I uses (`2026-01-02T03:04:05.678Z`)."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    """Now, as iso_time writes it: the one clock behind every stored timestamp."""
    return iso_time(time.time())


@dataclass(frozen=True)
class MediaItem:
    media_id: str  # sha256 of the content, hex
    kind: str  # one of MEDIA_KINDS
    file_name: str  # safe base name as uploaded
    size_bytes: int
    format: str  # container or image format as detected from content, e.g. "jpeg", "mp4"
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    codecs: tuple[str, ...] = ()
    status: str = "new"
    created_at: str = ""
    created_by: str = ""


@dataclass(frozen=True)
class BoundingBox:
    """A box in fractions of the image (0 to 1), as Rekognition gives it."""
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Instance:
    box: BoundingBox
    confidence: float
    label: str = ""


@dataclass(frozen=True)
class Label:
    name: str
    confidence: float  # 0..1
    parents: tuple[str, ...] = ()
    instances: tuple[Instance, ...] = ()
    category: str = "general"  # "general" (DetectLabels) or "moderation" (DetectModerationLabels)
    parent_name: str = ""  # moderation taxonomy parent; "" for a top-level category
    taxonomy_level: int = 0
    source: str = "model"  # "model" or "human"


@dataclass(frozen=True)
class Prediction:
    """What one model said about one media item."""
    media_id: str
    model_version: str
    labels: tuple[Label, ...] = ()
    source: str = "local"  # "local", "rekognition", or "import"
    created_at: str = ""
    embedding: str = ""  # the image's features as the labeler saw them (core.embeddings.encode); stored beside, not in


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float
    confidence: float  # 0..1


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    media_id: str
    segments: tuple[Segment, ...] = ()
    language: str = ""
    duration_s: float | None = None
    model_version: str = ""
    created_at: str = ""
    created_by: str = ""  # the model for the first version, the reviewer for later ones

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True)
class Workflow:
    """A2I's flow definition: what people are asked to do, when, and by how many of them."""
    name: str
    task_type: str = "moderation"  # a name in core.task_types.REGISTRY
    task_count: int = 1  # reviewers per item, 1..3
    title: str = ""
    description: str = ""
    instructions: str = ""
    categories: tuple[str, ...] = ()  # empty: show the labels that triggered the loop, as A2I does
    time_limit_s: int = 3600
    audit_percent: float = 0.0
    created_at: str = ""
    blind_percent: float = 0.0  # share of label-review tasks shown without the model's suggestions
    routing: RoutingPolicy = field(default_factory=RoutingPolicy)  # what goes to people; stored by core.workflows
    team: tuple[str, ...] = ()  # work team: member emails and group names who may take its tasks; () = every reviewer


@dataclass(frozen=True)
class HumanLoop:
    loop_id: str
    media_id: str
    workflow: str
    status: str = "InProgress"  # InProgress | Completed | Stopped | Failed
    reasons: tuple[str, ...] = ()
    activation_results: dict[str, Any] = field(default_factory=dict)  # humanTaskActivationConditionResults
    is_audit: bool = False
    task_count: int = 1
    created_at: str = ""


@dataclass(frozen=True)
class Answer:
    """One reviewer's submission for one human loop, in A2I's humanAnswers shape."""
    loop_id: str
    worker_id: str
    content: dict[str, Any] = field(default_factory=dict)  # answerContent
    acceptance_time: str = ""
    submission_time: str = ""
    time_spent_s: float = 0.0


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    status: str = "queued"  # queued | running | succeeded | failed | cancelled
    done: int = 0
    total: int = 0
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    created_at: str = ""
    started_at: str = ""
    finished_at: str = ""
    created_by: str = ""
    owner: str = ""  # the runner holding it, queued or running: "host:pid:token" (core/jobs.py)
    heartbeat_at: float = 0.0  # epoch seconds, refreshed while it runs

    @property
    def is_finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else (1.0 if self.is_finished else 0.0)


T = TypeVar("T")


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON-ready dict of a domain dataclass (tuples become lists).

    Walks the fields itself rather than through `dataclasses.asdict`, which deep-copies every leaf: writing
    10,000 predictions of 10 labels spent most of an import there."""
    plain: dict[str, Any] = _plain(value)
    return plain


_LEAVES = (str, int, float, bool, type(None))


@cache
def _field_names(cls: Any) -> tuple[str, ...] | None:
    return tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None


def _plain(value: Any) -> Any:
    cls = type(value)
    if cls in _LEAVES:
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    names = _field_names(cast(Hashable, cls))  # typeshed's cache wants Hashable, which it does not see in a type
    if names is not None:
        return {n: _plain(getattr(value, n)) for n in names}
    return value


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a domain dataclass from `as_dict` output, ignoring keys it does not know."""
    return cls(**{name: convert(data[name]) for name, convert in _converters(cast(Hashable, cls)) if name in data})


@cache
def _hints(cls: Any) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in typing.get_type_hints(cls).items() if k in names}


@cache
def _converters(cls: Any) -> tuple[tuple[str, Any], ...]:
    """One converter per field, worked out once per class: reading records is hot (10,000s per page)."""
    return tuple((name, _converter(hint)) for name, hint in _hints(cls).items())


def _identity(value: Any) -> Any:
    return value


def _to_float(value: Any) -> Any:
    return float(value) if isinstance(value, int) else value


def _converter(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) != 1:
            return _identity
        inner = _converter(options[0])
        return inner if inner in (_identity, _to_float) else (lambda v: None if v is None else inner(v))
    if origin is tuple:
        (item, *_) = typing.get_args(hint)
        inner = _converter(item)
        if inner is _identity:
            return lambda v: None if v is None else tuple(v)
        return lambda v: None if v is None else tuple(inner(x) for x in v)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda v: None if v is None else from_dict(hint, v)
    if hint is float:
        return _to_float
    return _identity
