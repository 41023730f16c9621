"""Results in a real browser, at a 1280x800 laptop size and wider: per-workflow results (issue 12 item 1), every
export as a download (item 11), and the empty state and counts (item 15)."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from core.config import Config
from core.service import Service
from tests.browser.conftest import open_as, wait_for_app
from tests.review_seed import seed_issue_12_repro

pytestmark = pytest.mark.browser
SIZES = [pytest.param((1280, 800), id="1280x800"), pytest.param((1600, 1000), id="1600x1000")]


@pytest.fixture
def sized_page(browser, request):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg, f"{width}x{height}"
    context.close()


def _choose(page, select_label: str, option: str) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=select_label).first
    box.scroll_into_view_if_needed()
    box.locator("input").click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def _metric(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    metric.wait_for()
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def _download(page, button: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return info.value.path().read_bytes()


@pytest.mark.parametrize("sized_page", SIZES, indirect=True)
def test_each_workflow_keeps_its_results_and_every_export_downloads(app_factory, tmp_path, sized_page, artifacts_dir):
    page, size = sized_page
    data = tmp_path / "data"
    with Service(Config(data_dir=data), start_jobs=False) as service:
        seed_issue_12_repro(service)
    app = app_factory(data)
    open_as(page, app.url + "/results", "dana")
    page.get_by_role("heading", name="Items and final labels").wait_for()
    assert _metric(page, "Items reviewed") == "3" and _metric(page, "Human loops completed") == "9"
    page.screenshot(path=str(artifacts_dir / f"results-all-{size}.png"), full_page=True)

    _choose(page, "Workflow", "demo-label-review")
    page.get_by_text("Workflow demo-label-review:").wait_for()
    assert _metric(page, "Items reviewed") == "3"  # was 0: a later workflow had overwritten these results
    assert _metric(page, "Items with 2+ reviewers") == "0"
    page.screenshot(path=str(artifacts_dir / f"results-workflow-{size}.png"), full_page=True)

    rows = list(csv.DictReader(io.StringIO(_download(page, "Download CSV of final labels").decode())))
    assert {r["reviewers"] for r in rows} == {"dana"} and {r["workflow"] for r in rows} == {"demo-label-review"}
    assert not [r for r in rows if r["label"] == "Person"]  # Dana unticked it: its box went too

    page.get_by_role("textbox", name="Source prefix for the manifest").fill("s3://team-bucket/images/")
    page.keyboard.press("Enter")
    page.get_by_text("Manifest source-refs: s3://team-bucket/images/<file name>").wait_for()
    wait_for_app(page)
    lines = [json.loads(x) for x in _download(page, "Download Ground Truth manifest").decode().splitlines()]
    assert len(lines) == 3 and all(x["source-ref"].startswith("s3://team-bucket/images/") for x in lines)

    with zipfile.ZipFile(io.BytesIO(_download(page, "Download A2I output (zip)"))) as zf:
        names = [n for n in zf.namelist() if n.endswith("/output.json")]
        assert len(names) == 3 and all(n.startswith("demo-label-review/") for n in names)
        assert {h["workerId"] for n in names for h in json.loads(zf.read(n))["humanAnswers"]} == {"dana"}

    _choose(page, "Workflow", "team-review")
    page.get_by_text("Workflow team-review:").wait_for()
    assert _metric(page, "Items with 2+ reviewers") == "3"
    assert _metric(page, "Agreement (Krippendorff's α)") in ("1.00", "—")
    page.screenshot(path=str(artifacts_dir / f"results-team-{size}.png"), full_page=True)


@pytest.mark.parametrize("sized_page", SIZES, indirect=True)
def test_the_flow_definition_download_takes_your_own_aws_resources(app_factory, tmp_path, sized_page, artifacts_dir):
    page, size = sized_page
    data = tmp_path / "data"
    with Service(Config(data_dir=data), start_jobs=False) as service:
        seed_issue_12_repro(service)
    app = app_factory(data)
    open_as(page, app.url + "/thresholds", "dana")
    page.get_by_text("Workflows and loops").click()
    wait_for_app(page)
    page.get_by_text("A2I flow definition (CreateFlowDefinition request)").click()
    page.get_by_text("placeholders (account 111122223333)").wait_for()
    role = "arn:aws:iam::123456789012:role/TeamA2I"
    # typed, then the button clicked at once, as a person does: no Enter, no wait for the field to commit
    page.get_by_role("textbox", name="Execution role ARN").fill(role)
    page.get_by_role("button", name="Build the request").click()
    # drawn after the Download button in the same run: once it names the role, the button holds that file
    page.get_by_text(f"Execution role ARN {role}").wait_for()
    assert page.get_by_text("Execution role ARN is still the placeholder").count() == 0
    page.screenshot(path=str(artifacts_dir / f"thresholds-flow-definition-{size}.png"), full_page=True)
    request = json.loads(_download(page, "Download CreateFlowDefinition request"))
    assert request["RoleArn"] == role and "111122223333" in request["HumanLoopConfig"]["WorkteamArn"]

    team = "arn:aws:sagemaker:eu-west-1:123456789012:workteam/private-crowd/team-a"
    page.get_by_role("textbox", name="Work team ARN").fill(team)  # changed again: the file follows the build
    page.get_by_role("button", name="Build the request").click()
    page.get_by_text(f"Work team ARN {team}").wait_for()
    request = json.loads(_download(page, "Download CreateFlowDefinition request"))
    assert request["RoleArn"] == role and request["HumanLoopConfig"]["WorkteamArn"] == team


@pytest.mark.parametrize("sized_page", SIZES, indirect=True)
def test_results_with_nothing_reviewed_say_how_to_get_results(app, sized_page, artifacts_dir):
    page, size = sized_page
    open_as(page, app.url + "/results", "dana")
    page.get_by_text("No results yet").wait_for()
    page.screenshot(path=str(artifacts_dir / f"results-empty-{size}.png"), full_page=True)
    assert "None" not in page.locator("[data-testid='stMain']").inner_text()
