"""The stakeholder demo in a real browser: one click runs the loop, a reviewer submits, Results shows it; the demo
includes the A2I-style moderation task."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.taxonomy import PARENT_OF, TAXONOMY_V6_1
from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser


def test_load_demo_then_review_one_item_and_see_it_in_results(app, page, artifacts_dir):
    page.goto(app.url)
    wait_for_app(page)
    page.get_by_placeholder("your name").fill("ann")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Load demo data").click()
    page.get_by_text("demo · succeeded").wait_for(timeout=120_000)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Label review").click()
    wait_for_app(page)
    page.get_by_text("Model labels").wait_for(timeout=60_000)  # the first task page measures its column first
    page.locator("canvas.upper-canvas").first.wait_for()  # the canvas reports once drawn, which reruns the page:
    wait_for_app(page)  # a click during that rerun can be dropped
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("11 for you").wait_for()  # auto-advanced to the next of the twelve demo tasks (demo/LICENSE.md)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Results").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Items and final labels").wait_for()
    page.locator("[data-testid='stMetric']").filter(has_text="Items reviewed").filter(has_text="1").wait_for()
    page.screenshot(path=str(artifacts_dir / "demo-results.png"), full_page=True)


@pytest.mark.parametrize("size", [(1280, 800), (1680, 1050)], ids=["1280x800", "1680x1050"])
def test_the_demo_includes_the_moderation_task_with_taxonomy_categories(app, browser, artifacts_dir, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(app.url)
        wait_for_app(page)
        page.get_by_placeholder("your name").fill("ann")
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Load demo data").click()
        page.get_by_text("demo · succeeded").wait_for(timeout=180_000)
        page.get_by_role("link", name="Moderation task").click()
        wait_for_app(page)
        page.get_by_text("Rekognition-shaped predictions shipped with the demo").wait_for()
        boxes = page.locator("[data-testid='stCheckbox']")
        boxes.filter(has_text="None of the above").wait_for()
        wait_for_app(page)
        shown = [re.sub(r"^\d\s*", "", text).strip() for text in boxes.all_inner_texts()]
        assert shown[-1] == "None of the above"
        taxonomy = set(TAXONOMY_V6_1) | set(PARENT_OF)
        assert shown[:-1] and all(name in taxonomy for name in shown[:-1])  # moderation categories, not image labels
        submit = page.get_by_role("button", name="Submit").bounding_box()
        assert submit["y"] + submit["height"] <= height
        page.screenshot(path=str(artifacts_dir / f"demo-moderation-{width}x{height}.png"))
        page.get_by_role("heading", name="Moderation review").click()
        page.keyboard.press("0")
        expect(boxes.filter(has_text="None of the above").locator("input")).to_be_checked(timeout=30_000)
        wait_for_app(page)
        page.keyboard.press("Enter")
        page.get_by_text("Answer recorded").wait_for()
    finally:
        context.close()
