"""The per-process cache of loaded models: each labeler and transcriber is built once per name, on first use, and
shared by every job and page of the process (a model takes seconds to load and hundreds of MB to hold)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

M = TypeVar("M")


class ModelCache:
    """Models by (kind, name), e.g. ("labeler", "local") or ("transcriber", "tiny.en"). Thread-safe: two threads
    asking for the same model at once load it once; loading one model never waits for another to load."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str], Any] = {}
        self._loading: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, name: str, load: Callable[[], M]) -> M:
        key = (kind, name)
        with self._lock:
            if key in self._models:
                return self._models[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            model = load()
            with self._lock:
                return self._models.setdefault(key, model)

    def put(self, kind: str, name: str, model: Any) -> None:
        """Use this model for (kind, name): one pointed elsewhere (an AWS client), or a test double."""
        with self._lock:
            self._models[(kind, name)] = model


_process_models = ModelCache()


def process_models() -> ModelCache:
    """The one cache of this process: a Dask worker serving jobs of several stores still loads each model once."""
    return _process_models
