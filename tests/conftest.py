"""Shared fixtures: a service around a temporary folder, built exactly as the app builds it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from core.config import Config  # noqa: E402
from core.service import Service  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    if os.environ.get("LOUPE_TEST_STORE") == "dynamodb":  # the whole suite on the team backend (moto_server)
        from tests.dynamodb_servers import team_config

        return team_config(tmp_path / "data")
    return Config(data_dir=tmp_path / "data")


@pytest.fixture
def service(config: Config):
    svc = Service(config)
    yield svc
    svc.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Everything under tests/browser/ drives a real browser: a test there without the browser mark is refused, so
    that `-m "not browser"` never starts chromium by surprise."""
    browser_dir = ROOT / "tests" / "browser"
    unmarked = [item.nodeid for item in items
                if browser_dir in Path(str(item.path)).parents and item.get_closest_marker("browser") is None]
    if unmarked:
        raise pytest.UsageError(f"tests under tests/browser/ must be marked browser (pytestmark): {unmarked}")
    for item in items:  # with pytest-xdist (--dist loadgroup), the tests sharing the run's Dask cluster run in turn:
        if item.get_closest_marker("cluster") is not None:  # some of them kill its workers
            item.add_marker(pytest.mark.xdist_group("cluster"))
