"""Every page at a 1280x800 laptop size after the one-click demo: a screenshot each in test-artifacts/, to be looked
at, and no page of Home, Upload, Transcripts or Thresholds wider than the window (nothing cut off at the right)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser

# (link in the sidebar, heading the page shows, text or selector it shows once drawn, whether its width is checked)
PAGES = [("Home", "Loupe", "text=Recent jobs", True),
         ("Upload", "Upload media", "[data-testid='stFileUploaderDropzone']", True),
         ("Images", "Images", "", False),
         ("Transcripts", "Transcript review", "button:has-text('✏️')", True),
         ("Thresholds", "Thresholds and routing", "text=Opened with the thresholds", True),
         ("Moderation task", "Moderation review", "", False), ("Label review", "Label review", "", False),
         ("Results", "Results", "", False), ("Settings", "Settings", "", False)]
NOTHING_STALE_JS = "() => !document.querySelector('[data-stale=\"true\"]')"
OVERFLOW_JS = """() => [...document.querySelectorAll('[data-testid="stMain"], [data-testid="stMainBlockContainer"]')]
    .some(e => e.scrollWidth > e.clientWidth + 1)"""


def test_every_page_at_1280x800_after_the_demo(app, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(app.url)
        wait_for_app(page)
        reviewer = page.get_by_placeholder("your name")
        reviewer.fill("ann")
        reviewer.press("Enter")
        page.get_by_role("button", name="Load demo data").click()
        page.get_by_text("demo · succeeded").wait_for(timeout=240_000)
        clipped = []
        for link, heading, drawn, is_checked in PAGES:
            page.get_by_role("link", name=link, exact=True).click()
            page.get_by_role("heading", name=heading).first.wait_for()
            if drawn:
                page.locator(drawn).first.wait_for()
            wait_for_app(page)
            page.wait_for_function(NOTHING_STALE_JS)
            slug = link.lower().replace(" ", "-")
            page.screenshot(path=str(artifacts_dir / f"page-{slug}-1280x800.png"))
            page.screenshot(path=str(artifacts_dir / f"page-{slug}-1280x800-full.png"), full_page=True)
            if is_checked and page.evaluate(OVERFLOW_JS):
                clipped.append(link)
        assert clipped == []
    finally:
        context.close()
