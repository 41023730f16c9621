"""A label's boxes go with it on the Label review page, in a real browser at 1280x800 and wider (issue 12 item 3):
unticking a model label warns that its boxes will be left out, and the answer, labels.csv and the Ground Truth
manifest then hold none of them."""
from __future__ import annotations

import csv
import json

import pytest
from playwright.sync_api import expect

from core.config import Config
from core.formats.ground_truth import parse_manifest_line
from core.service import Service
from tests.browser.conftest import wait_for_app
from tests.review_seed import seed_label_review

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(1280, 800), (1440, 900)], ids=["1280x800", "1440x900"])
def test_unticking_a_label_leaves_its_boxes_out_everywhere(app_factory, tmp_path, browser, artifacts_dir, size):
    data = tmp_path / "data"
    with Service(Config(data_dir=data), start_jobs=False) as service:
        (loop,) = seed_label_review(service, names=("astronaut.jpg",))  # Cat (with a box) and Animal pre-ticked
    app = app_factory(data)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(app.url + "/label_review")
        wait_for_app(page)
        page.get_by_role("textbox", name="Who is reviewing?").fill("dana")
        page.keyboard.press("Enter")
        wait_for_app(page)
        page.locator("canvas.upper-canvas").wait_for()
        cat = page.locator("[data-testid='stCheckbox']").filter(has_text="Cat")
        expect(cat.get_by_role("checkbox")).to_be_checked()  # waits: the page may still be rerunning
        cat.click()
        wait_for_app(page)
        page.get_by_text("Boxes labelled Cat will be left out on submit").wait_for()
        # the warning is drawn near the end of the run that unticked Cat; until that run ends the labels above
        # Submit still settle (the unticked box is a new widget), so a click aimed at Submit now can land beside it
        page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for()
        page.screenshot(path=str(artifacts_dir / f"label-review-untick-{size[0]}x{size[1]}.png"))
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("Answer recorded").wait_for()
    finally:
        context.close()
    with Service(Config(data_dir=data), start_jobs=False) as service:
        (answer,) = service.answers.for_loop(loop.loop_id)
        assert [lb["name"] for lb in answer.content["labels"]] == ["Animal"] and answer.content["boxes"] == []
        service.exports.export("csv", str(tmp_path / "csv"), workflow="label-flow")
        service.exports.export("gt-manifest", str(tmp_path / "gt"), workflow="label-flow")
    rows = list(csv.DictReader((tmp_path / "csv" / "labels.csv").open()))
    assert [(r["kind"], r["label"]) for r in rows] == [("label", "Animal")]
    _, names, boxes = parse_manifest_line(json.loads((tmp_path / "gt" / "output.manifest").read_text()), "labels")
    assert names == ["Animal"] and boxes == []
