"""The task pages at a 1280x800 laptop size and wider, in a real browser: the label review canvas fits its column with
Submit in view, its keys, the answer's confirmation between tasks, and the moderation page's warning, exclusion
category and instructions."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.config import Config
from core.domain import BoundingBox, Instance, Label
from core.service import Service
from tests.browser.conftest import SentFrames, open_as, seed, wait_for_app
from tests.review_seed import seed_label_review, seed_moderation

pytestmark = pytest.mark.browser
SIZES = [pytest.param((1280, 800), id="1280x800"), pytest.param((1680, 1050), id="1680x1050")]
THIRTEEN = tuple(Label(f"Label {i:02d}", round(0.97 - i * 0.06, 2),
                       instances=(Instance(BoundingBox(0.1, 0.1, 0.2, 0.2), 0.9, "Label 00"),) if i == 0 else ())
                 for i in range(13))
CHECKBOX = "[data-testid='stCheckbox']"


def _answers(data_dir, loop_id: str):
    svc = Service(Config(data_dir=data_dir), start_jobs=False)
    try:
        return svc.answers.for_loop(loop_id)
    finally:
        svc.close()


@pytest.fixture
def sized_page(browser, request):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def _canvas_ready(page, sent: SentFrames, since: int = 0) -> None:
    """Wait until a canvas has its image and has reported its fit (after frame `since`), and the rerun is done."""

    def has_reported() -> bool:
        return any(b"backgroundFit" in frame for frame in sent.frames[since:])

    for _ in range(600):
        if has_reported():
            break
        page.wait_for_timeout(50)  # lets Playwright deliver the page's events
    assert has_reported(), "the canvas never reported its fit"
    wait_for_app(page)
    expect(page.locator("canvas.upper-canvas")).to_have_count(1, timeout=30_000)  # the last task's canvas is gone


def _settled_box(page, locator) -> dict:
    """The element's box once it has stayed put for a quarter of a second (reruns under load shift the layout)."""
    last = locator.bounding_box()
    for _ in range(100):
        page.wait_for_timeout(250)
        now = locator.bounding_box()
        if now == last:
            return now
        last = now
    raise AssertionError(f"the element kept moving: {last}")


@pytest.mark.parametrize("sized_page", SIZES, indirect=True)
def test_the_label_review_canvas_fits_its_column_submit_is_in_view_and_boxes_stay_in_image_fractions(
        app_factory, tmp_path, sized_page, artifacts_dir):
    page = sized_page
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    data = tmp_path / "data"
    (loop,) = seed(data, seed_label_review, names=("rocket.jpg",), labels=THIRTEEN)
    app = app_factory(data)
    sent = SentFrames(page)
    open_as(page, app.url + "/label_review", "ana")
    _canvas_ready(page, sent)
    canvas = page.locator("canvas.upper-canvas").bounding_box()
    column = page.locator("[data-testid='stColumn']").filter(has=page.locator("canvas.upper-canvas")).bounding_box()
    assert canvas["x"] >= column["x"] - 1 and canvas["x"] + canvas["width"] <= column["x"] + column["width"] + 1
    assert canvas["width"] >= column["width"] - 40  # it uses the column, not a fixed 640 px
    submit = page.get_by_role("button", name="Submit").bounding_box()
    assert submit["y"] + submit["height"] <= height  # in view without scrolling, with 13 model labels
    page.screenshot(path=str(artifacts_dir / f"label-review-{width}x{height}.png"))

    canvas = _settled_box(page, page.locator("canvas.upper-canvas"))  # a late rerun can still move it
    page.mouse.move(canvas["x"] + canvas["width"] * 0.5, canvas["y"] + canvas["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(canvas["x"] + canvas["width"] * 0.75, canvas["y"] + canvas["height"] * 0.8, steps=8)
    page.mouse.up()
    expect(page.get_by_role("button", name="Undo")).to_be_enabled(timeout=30_000)
    boxes_sent = max((frame.count(b"LabeledRect") for frame in sent.frames), default=0)
    since = len(sent)
    page.get_by_role("button", name="Update the app with this drawing").click()
    for _ in range(600):  # the drawing reaches the app in a frame with one more box than it has seen
        if any(frame.count(b"LabeledRect") > boxes_sent for frame in sent.frames[since:]):
            break
        page.wait_for_timeout(50)
    assert any(frame.count(b"LabeledRect") > boxes_sent for frame in sent.frames[since:]), "the drawing was not sent"
    wait_for_app(page)
    page.screenshot(path=str(artifacts_dir / f"label-review-drawn-{width}x{height}.png"))
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Answer recorded").wait_for()
    (answer,) = _answers(data, loop.loop_id)
    new = max(answer.content["boxes"], key=lambda b: b["left"])
    assert new["left"] == pytest.approx(0.5, abs=0.02) and new["top"] == pytest.approx(0.5, abs=0.02)
    # The drag's start maps exactly; its end can fall short when a loaded machine drops the last mouse moves (once
    # in a full run at 1280x800: the box ended at the 5th of 8 steps), so the size is bounded by the drag, not equal.
    assert 0.1 < new["width"] <= 0.25 + 0.02 and 0.1 < new["height"] <= 0.3 + 0.02


@pytest.mark.parametrize("sized_page", SIZES, indirect=True)
def test_label_review_keys_toggle_labels_skip_and_submit_and_the_answer_shows_while_the_next_task_opens(
        app_factory, tmp_path, sized_page, artifacts_dir):
    page = sized_page
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    data = tmp_path / "data"
    first, second, third = seed(data, seed_label_review, names=("cat.jpg", "coffee.jpg", "astronaut.jpg"))
    app = app_factory(data)
    sent = SentFrames(page)
    open_as(page, app.url + "/label_review", "ana")
    _canvas_ready(page, sent)
    page.get_by_role("heading", name="Label review").click()  # focus the page, not the name box
    item = page.get_by_text(re.compile(r"^Item \S+ · reviewer"))
    shown = item.inner_text().split(" · ")[0]
    boxes = page.locator(f"{CHECKBOX} input")
    expect(boxes.nth(2)).not_to_be_checked(timeout=30_000)  # Cat, Animal pre-ticked; Dog (31%) not
    page.keyboard.press("3")
    expect(boxes.nth(2)).to_be_checked(timeout=30_000)
    wait_for_app(page)
    page.keyboard.press("1")
    expect(boxes.nth(0)).not_to_be_checked(timeout=30_000)
    wait_for_app(page)
    page.keyboard.press("s")  # skip: the next item opens
    expect(item).not_to_contain_text(shown + " ", timeout=30_000)  # another item is on screen
    _canvas_ready(page, sent)
    page.get_by_role("heading", name="Label review").click()
    before = len(sent)
    page.keyboard.press("Enter")  # submit as pre-ticked
    _canvas_ready(page, sent, since=before)  # the next task's canvas reran the page after the submit
    expect(page.get_by_text("Answer recorded")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(artifacts_dir / f"label-review-answer-recorded-{width}x{height}.png"))

    answered = {loop.loop_id: _answers(data, loop.loop_id) for loop in (first, second, third)}
    done = [a for answers in answered.values() for a in answers]
    assert len(done) == 1 and {lb["name"] for lb in done[0].content["labels"]} == {"Cat", "Animal"}
    skipped = [loop_id for loop_id, answers in answered.items() if not answers]
    assert len(skipped) == 2  # the skipped task is still open for someone else


@pytest.mark.parametrize("sized_page", SIZES, indirect=True)
def test_moderation_warns_beside_submit_none_of_the_above_turns_the_rest_off_and_instructions_open_readable(
        app_factory, tmp_path, sized_page, artifacts_dir):
    page = sized_page
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    data = tmp_path / "data"
    seed(data, seed_moderation, task_count=1)
    app = app_factory(data)
    open_as(page, app.url + "/moderation_task", "ana")
    page.locator(CHECKBOX).filter(has_text="None of the above").wait_for()
    wait_for_app(page)
    page.get_by_role("button", name="Submit").click()
    warning = page.get_by_text("Tick at least one category")
    warning.wait_for()
    submit = page.get_by_role("button", name="Submit").bounding_box()
    said = warning.bounding_box()
    assert 0 <= said["y"] - (submit["y"] + submit["height"]) < 80  # right under Submit
    assert abs(said["x"] - submit["x"]) < 40
    assert said["y"] + said["height"] <= height

    page.locator(CHECKBOX).filter(has_text="None of the above").click()
    boxes = page.locator(f"{CHECKBOX} input")
    expect(boxes.first).to_be_disabled(timeout=30_000)
    expect(boxes.nth(1)).to_be_disabled(timeout=30_000)
    wait_for_app(page)
    page.screenshot(path=str(artifacts_dir / f"moderation-none-{width}x{height}.png"))

    for button, heading, words in (("View full instructions", "Full instructions", "Look at the whole image first"),
                                   ("View tool guide", "Tool guide", "Back to the whole image")):
        page.get_by_role("button", name=button).click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text(words).wait_for()
        line = dialog.get_by_text(words).bounding_box()
        assert dialog.bounding_box()["width"] >= 600 and line["height"] < 80  # readable lines, not a word per line
        shot = f"moderation-{heading.lower().replace(' ', '-')}-{width}x{height}.png"
        page.screenshot(path=str(artifacts_dir / shot))
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0, timeout=30_000)
