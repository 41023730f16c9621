"""AppTest fixtures: the real app script against a service in a temporary data folder."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Config
from core.service import Service

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("LOUPE_DATA_DIR", str(path))
    monkeypatch.setenv("LOUPE_STORE", "local")
    return path


@pytest.fixture
def seeded(data_dir):
    """A service on the same folder the app will open, for writing test data before the run."""
    svc = Service(Config.from_env(), start_jobs=False)
    yield svc
    svc.close()


@pytest.fixture
def app_at(data_dir):
    """Open a page of the real app: `app_at("pages/upload.py", reviewer="ann")`."""

    def _open(page: str | None = None, reviewer: str = "", timeout: float = 60) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=timeout)
        if reviewer:
            at.session_state["app.reviewer"] = reviewer
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        assert not at.exception, at.exception
        return at

    return _open
