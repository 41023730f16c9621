"""Home in a real browser: its counters follow the store while a job runs, without a reload."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.config import Config
from core.service import Service
from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_home_counters_update_while_a_job_runs(app_factory, page, tmp_path, artifacts_dir):
    data = tmp_path / "data"
    service = Service(Config(data_dir=data))
    release = threading.Event()

    def block(ctx, params):
        while not release.wait(0.2):
            ctx.check_cancelled()
        return {}

    service.jobs.register("block", block)
    job = service.jobs.submit("block", created_by="ann")
    try:
        app = app_factory(data_dir=data)
        page.goto(app.url)
        wait_for_app(page)
        media = page.locator("[data-testid='stMetric']").filter(has_text="Media items").first
        media.locator("[data-testid='stMetricValue']").filter(has_text="0").wait_for()
        page.get_by_text("block · running").wait_for()
        service.catalog.ingest_file(ROOT / "demo" / "cat.jpg")  # as an upload job would, while "block" still runs
        media.locator("[data-testid='stMetricValue']").filter(has_text="1").wait_for(timeout=20_000)
        page.screenshot(path=str(artifacts_dir / "home-live-counters.png"), full_page=True)
    finally:
        release.set()
        service.jobs.wait(job.job_id, 30)
        service.close()
