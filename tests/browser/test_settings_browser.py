"""A real browser changes the beam size and language in Settings, saves, reloads and sees them kept."""
from __future__ import annotations

import pytest

from core.config import Config
from core.service import Service
from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser


def test_settings_saved_in_the_browser_are_kept_with_the_project(app, page, artifacts_dir):
    page.goto(app.url + "/settings")
    wait_for_app(page)
    beam = page.get_by_label("Beam size", exact=True)
    beam.wait_for()
    beam.fill("3")
    page.get_by_label("Language", exact=True).fill("fr")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved: the next run uses these settings.").wait_for(timeout=30_000)
    page.reload()
    wait_for_app(page)
    page.get_by_label("Beam size", exact=True).wait_for()
    assert page.get_by_label("Beam size", exact=True).input_value() == "3"
    assert page.get_by_label("Language", exact=True).input_value() == "fr"
    page.get_by_label("Beam size", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "settings-saved.png"), full_page=True)
    service = Service(Config(data_dir=app.data_dir), start_jobs=False)
    try:
        effective = service.settings.effective()
        assert (effective.transcriber_beam_size, effective.transcriber_language) == (3, "fr")
    finally:
        service.close()
