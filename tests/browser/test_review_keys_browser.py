"""Keys N and 0 ("None of the above") on the moderation task page, in a real browser, through to the answer."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.config import Config
from core.service import Service
from tests.browser.conftest import wait_for_app
from tests.review_seed import seed_moderation

pytestmark = pytest.mark.browser
CHECKBOX = "[data-testid='stCheckbox']"


def _press(page, key: str, *, ticked: list[int], cleared: list[int]) -> None:
    """Press a key and wait (it goes to the server as a rerun) until the boxes at these positions are ticked and
    those cleared."""
    page.keyboard.press(key)
    boxes = page.locator(f"{CHECKBOX} input")
    for i in ticked:
        expect(boxes.nth(i)).to_be_checked(timeout=20_000)
    for i in cleared:
        expect(boxes.nth(i)).not_to_be_checked(timeout=20_000)
    wait_for_app(page)


def test_keys_n_and_0_tick_none_of_the_above_clear_the_rest_and_enter_submits_an_empty_answer(app_factory, tmp_path,
                                                                                              page, artifacts_dir):
    data = tmp_path / "data"
    svc = Service(Config(data_dir=data), start_jobs=False)
    try:
        (loop,) = seed_moderation(svc, task_count=1)
    finally:
        svc.close()
    app = app_factory(data)
    page.goto(app.url + "/moderation_task")
    wait_for_app(page)
    page.get_by_role("textbox", name="Who is reviewing?").fill("ana")
    page.keyboard.press("Enter")
    wait_for_app(page)
    heading = page.get_by_role("heading", name="Moderation review")
    heading.wait_for()
    page.locator(CHECKBOX).filter(has_text="None of the above").wait_for()
    wait_for_app(page)
    heading.click()  # focus the page, not the name box
    labels = page.locator(CHECKBOX).all_inner_texts()
    none = len(labels) - 1  # "None of the above" is the last box
    assert "None of the above" in labels[none] and none >= 2
    categories = list(range(none))

    _press(page, "1", ticked=[0], cleared=[none])
    _press(page, "2", ticked=[0, 1], cleared=[none])
    _press(page, "n", ticked=[none], cleared=categories)  # N: None of the above, and the others are cleared
    page.screenshot(path=str(artifacts_dir / "review-keys-none.png"))
    _press(page, "1", ticked=[0], cleared=[none])  # a category again clears None of the above
    _press(page, "0", ticked=[none], cleared=categories)  # 0 does what N does
    page.keyboard.press("Enter")
    page.get_by_text("Answer recorded").wait_for(timeout=30_000)

    svc = Service(Config(data_dir=data), start_jobs=False)
    try:
        (answer,) = svc.answers.for_loop(loop.loop_id)
        assert answer.worker_id == "ana"
        assert answer.content == {"AWS/Rekognition/DetectModerationLabels/Image/V3": {"moderationLabels": []}}
        assert svc.loops.get(loop.loop_id).status == "Completed"
    finally:
        svc.close()
