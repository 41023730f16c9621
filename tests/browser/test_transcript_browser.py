"""A real browser opens a transcribed clip, edits a word, saves, reloads, and sees the edit as version 2."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.config import Config
from core.service import Service
from tests.browser.conftest import wait_for_app
from tests.speech import make_speech_wav

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_edit_a_word_save_reload_and_see_the_new_version(app_factory, page, tmp_path, artifacts_dir):
    data_dir = tmp_path / "data"
    service = Service(Config(data_dir=data_dir))
    media_id = service.catalog.ingest_file(make_speech_wav(tmp_path / "speech.wav")).media_id
    outcome = service.transcription.transcribe_media(media_id)
    original = outcome.version.transcript.segments[0].text
    service.close()
    assert "fox" in original.lower()
    edited = original.replace("fox", "ferret").replace("Fox", "Ferret")

    app = app_factory(data_dir=data_dir)
    page.goto(f"{app.url}/transcript?media={media_id}")
    wait_for_app(page)
    page.get_by_text("Transcript review").first.wait_for()
    reviewer = page.get_by_placeholder("your name")
    reviewer.fill("ann")
    reviewer.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="✏️").first.click()
    box = page.locator("[data-testid='stTextArea'] textarea").first
    box.wait_for()
    page.screenshot(path=str(artifacts_dir / "transcript-opened.png"), full_page=True)
    expect(box).to_have_value(original)
    box.fill(edited)
    box.press("Control+Enter")
    page.get_by_text("1 unsaved edit").wait_for()
    page.get_by_role("button", name="Save as new version").click()
    page.get_by_text("v2 · edit · saved by ann").wait_for()
    page.screenshot(path=str(artifacts_dir / "transcript-saved.png"), full_page=True)

    page.reload()
    wait_for_app(page)
    page.get_by_text("v2 · edit · saved by ann").wait_for()
    page.get_by_role("button", name="✏️").first.click()
    expect(page.locator("[data-testid='stTextArea'] textarea").first).to_have_value(edited)
    assert "ferret" in page.locator(".loupe-transcript").first.inner_text().lower()
    page.screenshot(path=str(artifacts_dir / "transcript-reloaded.png"), full_page=True)


def test_the_media_picker_shows_transcribed_once_the_job_ends(app_factory, page, tmp_path, artifacts_dir):
    data = tmp_path / "data"
    service = Service(Config(data_dir=data), start_jobs=False)
    media_id = service.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    service.close()
    app = app_factory(data_dir=data)
    page.goto(f"{app.url}/transcript?media={media_id}")
    wait_for_app(page)
    page.get_by_text("has not been transcribed yet").wait_for()
    expect(page.get_by_role("combobox", name="Media item")).to_have_value("welcome.wav · new")
    page.get_by_role("button", name="Transcribe").click()
    page.get_by_text("Low-confidence words").wait_for(timeout=180_000)
    expect(page.get_by_role("combobox", name="Media item")).to_have_value("welcome.wav · transcribed", timeout=20_000)
    wait_for_app(page)
    page.get_by_role("button", name="✏️").first.wait_for()
    page.screenshot(path=str(artifacts_dir / "transcript-after-job.png"), full_page=True)
