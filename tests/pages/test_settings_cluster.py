"""AppTest runs of the Settings page's cluster section: a reachable cluster's workers, and an unreachable one in
words."""
from __future__ import annotations

import socket

import pytest

from components.markup import as_shown
from tests.dask_cluster import shared_scheduler, wait_for

pytestmark = pytest.mark.timeout(180)


def _texts(at) -> str:
    return " ".join(as_shown(e.value) for kind in ("success", "error", "caption") for e in getattr(at, kind))


@pytest.mark.cluster
def test_settings_shows_the_clusters_workers_and_tasks(app_at, monkeypatch):
    monkeypatch.setenv("LOUPE_DASK_SCHEDULER", shared_scheduler())
    at = app_at("pages/settings.py")
    # the first look waits at most 1.5 s for the probe; the panel refreshes by itself, as a rerun does here
    wait_for(lambda: "worker(s) on the Dask scheduler at tcp://127.0.0.1:" in _texts(at.run()), "the workers")
    assert {m.label for m in at.metric} >= {"Workers", "Memory", "Tasks in flight"}
    assert int(next(m for m in at.metric if m.label == "Workers").value) >= 1


def test_settings_says_in_words_when_no_scheduler_can_be_reached(app_at, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LOUPE_DASK_SCHEDULER", f"tcp://127.0.0.1:{port}")
    at = app_at("pages/settings.py")
    assert f"the Dask scheduler at tcp://127.0.0.1:{port} can't be reached" in _texts(at)
    assert not at.metric


def test_settings_says_model_work_runs_in_the_app_with_dask_off(app_at):
    at = app_at("pages/settings.py")
    assert "Model work runs in this process (LOUPE_DASK=off)" in _texts(at)
