"""A real browser moves the threshold slider on the Thresholds page and sees the live counts change."""
from __future__ import annotations

import pytest

from core.config import Config
from core.domain import Label, Prediction
from core.service import Service
from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser


def metric_value(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_moving_the_slider_in_a_browser_changes_the_counts(app_factory, page, tmp_path, artifacts_dir):
    data = tmp_path / "data"
    service = Service(Config(data_dir=data), start_jobs=False)
    service.predictions.save_many(
        Prediction(f"item-{i:03d}", "test-model-1", (Label("Weapons", i / 100, category="moderation"),
                                                     Label("<script>alert(1)</script>", 0.99, category="moderation")))
        for i in range(100))
    service.close()
    app = app_factory(data_dir=data)

    page.goto(app.url + "/thresholds")
    wait_for_app(page)
    page.get_by_text("Thresholds and routing").first.wait_for()
    assert metric_value(page, "Labels · accepted automatically") == "120"  # 20 Weapons >= 80% + 100 others
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(20):  # 20 steps of 0.5 points: 80% -> 70%
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetric\"]')].some(m => "
        "m.innerText.includes('Labels · accepted automatically') && m.innerText.includes('130'))",
        timeout=30_000)
    wait_for_app(page)
    assert metric_value(page, "Items · sent to people") == "70"
    assert page.locator("script", has_text="alert(1)").count() == 0
    page.screenshot(path=str(artifacts_dir / "thresholds-slider.png"), full_page=True)
