"""A real browser uploads a good and a bad file and sees both outcomes on the Upload page."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_upload_two_files_shows_both_outcomes(app, page, tmp_path, artifacts_dir):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is a text file, not a video")
    page.goto(app.url + "/upload")
    wait_for_app(page)
    page.get_by_text("Upload media").first.wait_for()
    page.locator("input[type='file']").set_input_files([str(ROOT / "demo" / "cat.jpg"), str(bad)])
    page.get_by_text("cat.jpg").first.wait_for()
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text("✅ ingested: 1").wait_for(timeout=60_000)
    page.get_by_text("❌ rejected: 1").wait_for()
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    page.screenshot(path=str(artifacts_dir / "upload-outcomes.png"), full_page=True)
    assert (app.data_dir / "loupe.sqlite3").exists()


def test_the_choose_files_warning_goes_away_once_files_are_chosen(app, page):
    page.goto(app.url + "/upload")
    wait_for_app(page)
    page.get_by_role("button", name="Ingest").click()
    warning = page.get_by_text("Choose one or more files first")
    warning.wait_for()
    page.locator("input[type='file']").set_input_files([str(ROOT / "demo" / "cat.jpg")])
    page.get_by_text("cat.jpg").first.wait_for()
    warning.wait_for(state="detached", timeout=15_000)
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text("✅ ingested: 1").wait_for(timeout=60_000)
    assert page.get_by_text("Choose one or more files first").count() == 0
