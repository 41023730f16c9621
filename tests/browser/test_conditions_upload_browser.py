"""A real browser uploads activation-conditions files on the Thresholds page: a valid one is accepted, a broken one
is refused with the reason in plain words (AppTest can't drive a file uploader, so this covers it)."""
from __future__ import annotations

import json

import pytest

from core.config import Config
from core.domain import Label, Prediction
from core.service import Service
from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser
CHECK = {"ConditionType": "ModerationLabelConfidenceCheck",
         "ConditionParameters": {"ModerationLabelName": "Weapons", "ConfidenceLessThan": 90}}
VALID = {"Conditions": [CHECK, {"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 5}}]}
ONE_MEMBER_AND = {"Conditions": [{"And": [CHECK]}]}


def test_a_conditions_file_uploaded_in_the_browser_is_validated_in_plain_words(app_factory, page, tmp_path,
                                                                               artifacts_dir):
    data = tmp_path / "data"
    service = Service(Config(data_dir=data), start_jobs=False)
    service.predictions.save_many(Prediction(f"item-{i:02d}", "test-model-1",
                                             (Label("Weapons", i / 20, category="moderation"),)) for i in range(20))
    service.close()
    valid, broken = tmp_path / "routing.json", tmp_path / "broken.json"
    valid.write_text(json.dumps(VALID))
    broken.write_text(json.dumps(ONE_MEMBER_AND))
    app = app_factory(data_dir=data)

    page.goto(app.url + "/thresholds")
    wait_for_app(page)
    page.get_by_text("Workflows and loops").click()
    wait_for_app(page)
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="Import activation conditions JSON")
    uploader.locator("input[type='file']").set_input_files(str(valid))
    accepted = page.get_by_text("Valid: 2 top-level conditions")
    accepted.wait_for(timeout=30_000)
    wait_for_app(page)
    accepted.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "thresholds-conditions-valid.png"))
    page.get_by_role("textbox", name="Workflow name").fill("imported-pass")
    page.get_by_text("Imported conditions").click()
    page.get_by_role("button", name="Save workflow").click()
    page.get_by_text("Saved workflow imported-pass.").wait_for(timeout=30_000)
    wait_for_app(page)

    uploader.locator("input[type='file']").set_input_files(str(broken))
    error = page.locator("[data-testid='stAlert']").filter(has_text="broken.json")
    error.wait_for(timeout=30_000)
    assert "Conditions[0]: And needs a list of at least two conditions." in error.inner_text()
    assert page.get_by_text("Valid: 2 top-level conditions").count() == 0
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "thresholds-conditions-invalid.png"))
    service = Service(Config(data_dir=data), start_jobs=False)
    try:
        assert service.workflows.get("imported-pass").routing.conditions == VALID  # it routes by the file
    finally:
        service.close()
