"""Human review in a real browser: the image viewer, keyboard shortcuts, two reviewers end to end, boxes, escaping."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.config import Config
from core.domain import Label
from core.service import Service
from tests.browser.conftest import SentFrames, open_as, seed, wait_for_app
from tests.review_seed import MODERATION, seed_label_review, seed_moderation

pytestmark = pytest.mark.browser
XSS = "<script>alert(1)</script>"


def _checked(page, name: str) -> None:
    """Wait until the category's checkbox shows ticked and the rerun it started has finished."""
    box = page.locator("[data-testid='stCheckbox']").filter(has_text=name).locator("input")
    expect(box).to_be_checked(timeout=30_000)
    wait_for_app(page)


def _tables_shown(page) -> None:
    """Wait until the Results page has drawn its tables and finished running."""
    page.get_by_role("heading", name="Items and final labels").wait_for()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    wait_for_app(page)


def test_the_image_viewer_zooms_pans_and_fits_in_the_browser_without_a_round_trip(app_factory, tmp_path, page,
                                                                                  artifacts_dir):
    data = tmp_path / "data"
    seed(data, seed_moderation, task_count=1)
    app = app_factory(data)
    sent = SentFrames(page)
    open_as(page, app.url + "/moderation_task", "ana")
    view = page.locator(".lv-view")
    expect(page.locator(".lv-img")).to_have_attribute("src", re.compile(r"^data:image/"), timeout=30_000)  # JS ran
    expect(page.locator(".lv-name")).to_have_text("cat.jpg")
    wait_for_app(page)
    assert sent  # the listener sees the app's own messages
    before = len(sent)
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    assert float(view.get_attribute("data-scale")) == pytest.approx(1.5625, abs=1e-3)
    page.get_by_role("button", name="Zoom out").click()
    assert float(view.get_attribute("data-scale")) == pytest.approx(1.25)
    page.get_by_role("button", name="Move").click()
    box = view.bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 260, box["y"] + 230, steps=5)
    page.mouse.up()
    assert (int(view.get_attribute("data-tx")), int(view.get_attribute("data-ty"))) == (60, 30)
    page.screenshot(path=str(artifacts_dir / "review-viewer-zoomed.png"))
    page.get_by_role("button", name="Fit image").click()
    assert view.get_attribute("data-scale") == "1" and view.get_attribute("data-tx") == "0"
    assert len(sent) == before  # no message went to the server: zoom and pan stayed in the browser


def test_two_reviewers_take_the_same_task_and_results_show_the_consolidated_outcome(app_factory, tmp_path, browser,
                                                                                    artifacts_dir):
    data = tmp_path / "data"
    (loop,) = seed(data, seed_moderation, task_count=2)
    app = app_factory(data)
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    try:
        ana, ben = (c.new_page() for c in contexts)
        for pg, name in ((ana, "ana"), (ben, "ben")):
            pg.set_default_timeout(30_000)
            open_as(pg, app.url + "/moderation_task", name)
            pg.get_by_text("reviewer", exact=False).first.wait_for()
        assert "reviewer 1 of 2" in ana.content() and "reviewer 2 of 2" in ben.content()

        ana.get_by_role("button", name="Zoom in").click()
        ana.get_by_role("heading", name="Moderation review").click()
        ana.keyboard.press("1")  # Weapons, by keyboard
        _checked(ana, "Weapons")
        ana.keyboard.press("Enter")  # submit, by keyboard
        ana.get_by_text("Answer recorded").wait_for()

        ben.get_by_role("button", name="Zoom in").click()
        ben.locator("[data-testid='stCheckbox']").filter(has_text="Weapons").click()
        _checked(ben, "Weapons")
        ben.locator("[data-testid='stCheckbox']").filter(has_text="Alcoholic Beverages").click()
        _checked(ben, "Alcoholic Beverages")
        ben.screenshot(path=str(artifacts_dir / "review-moderation-ben.png"))
        ben.get_by_role("button", name="Submit").click()
        ben.get_by_text("This item is now complete").wait_for()

        ana.goto(app.url + "/results")
        wait_for_app(ana)
        ana.get_by_text("Krippendorff").first.wait_for()
        _tables_shown(ana)
        ana.screenshot(path=str(artifacts_dir / "review-results.png"), full_page=True)
        text = ana.locator("[data-testid='stMetric']").all_inner_texts()
        assert any("Items reviewed" in t and "1" in t for t in text)
        assert any("Items with 2+ reviewers" in t and "1" in t for t in text)
    finally:
        for c in contexts:
            c.close()
    svc = Service(Config(data_dir=data), start_jobs=False)
    try:
        answers = {a.worker_id: a for a in svc.answers.for_loop(loop.loop_id)}
        assert set(answers) == {"ana", "ben"}
        assert svc.loops.get(loop.loop_id).status == "Completed"
        assert svc.consolidation.accepted_labels()[loop.media_id] == {"Weapons"}  # both ticked it; only ben saw alcohol
    finally:
        svc.close()


def test_a_box_drawn_on_the_label_review_page_is_submitted(app_factory, tmp_path, page, artifacts_dir):
    data = tmp_path / "data"
    (loop,) = seed(data, seed_label_review, names=("astronaut.jpg",))
    app = app_factory(data)
    sent = SentFrames(page)
    open_as(page, app.url + "/label_review", "ana")
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for()
    sent.wait_for(b"backgroundFit")  # the canvas has its image and reported how it fits it
    wait_for_app(page)
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 420, box["y"] + 300)
    page.mouse.down()
    page.mouse.move(box["x"] + 520, box["y"] + 420, steps=8)
    page.mouse.up()
    expect(page.get_by_role("button", name="Undo")).to_be_enabled(timeout=30_000)  # the box is in the canvas's history
    page.get_by_role("button", name="Update the app with this drawing").click()  # sent now, not after its debounce
    wait_for_app(page)
    page.screenshot(path=str(artifacts_dir / "review-label-box.png"))
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Answer recorded").wait_for()
    svc = Service(Config(data_dir=data), start_jobs=False)
    try:
        (answer,) = svc.answers.for_loop(loop.loop_id)
        boxes = answer.content["boxes"]
        assert len(boxes) == 2  # the model's box it started from, and the new one
        new = max(boxes, key=lambda b: b["left"])
        assert new["label"] == "Cat" and 0.5 < new["left"] < 0.8 and 0.1 < new["width"] < 0.35
        assert svc.consolidation.get(loop.media_id).boxes
    finally:
        svc.close()


def test_a_script_label_shows_as_text_on_the_task_and_results_pages(app_factory, tmp_path, page):
    data = tmp_path / "data"
    labels = (Label(XSS, 0.55, category="moderation", parent_name="Violence"), *MODERATION)
    seed(data, seed_moderation, task_count=1, labels=labels)
    app = app_factory(data)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_as(page, app.url + "/moderation_task", "ana")
    page.locator("[data-testid='stCheckbox']").filter(has_text=XSS).wait_for()
    page.locator("[data-testid='stCheckbox']").filter(has_text=XSS).click()
    _checked(page, XSS)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Answer recorded").wait_for()
    page.goto(app.url + "/results")
    wait_for_app(page)
    _tables_shown(page)
    assert page.locator("script:text('alert(1)')").count() == 0
    assert dialogs == []
