"""The stakeholder demo in a real browser: one click runs the loop, a reviewer submits, Results shows it."""
from __future__ import annotations

import pytest

from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser


def test_load_demo_then_review_one_item_and_see_it_in_results(app, page, artifacts_dir):
    page.goto(app.url)
    wait_for_app(page)
    page.get_by_placeholder("your name").fill("ann")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Load demo data").click()
    page.get_by_text("demo · succeeded").wait_for(timeout=120_000)
    page.get_by_role("link", name="Label review").click()
    wait_for_app(page)
    page.get_by_text("Model labels").wait_for()
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("2 for you").wait_for()  # auto-advanced to the next of the three demo tasks
    page.get_by_role("link", name="Results").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Items and final labels").wait_for()
    page.locator("[data-testid='stMetric']").filter(has_text="Items reviewed").filter(has_text="1").wait_for()
    page.screenshot(path=str(artifacts_dir / "demo-results.png"), full_page=True)
