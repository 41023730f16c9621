"""Two app servers on one DynamoDB table and S3 bucket: what reviewer A uploads in one, reviewer B sees in the other."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.aws import make_client
from core.config import Config
from core.service import Service
from core.stores.aws_setup import ensure_bucket, ensure_table
from tests.browser.conftest import wait_for_app
from tests.dynamodb_servers import aws_env, endpoint_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def _metric(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_reviewer_b_sees_in_app_two_what_reviewer_a_uploaded_in_app_one(app_factory, browser, tmp_path, monkeypatch,
                                                                         artifacts_dir):
    env = {**aws_env(endpoint_for("moto")), "LOUPE_STORE": "dynamodb",
           "LOUPE_DYNAMODB_TABLE": f"two-apps-{uuid.uuid4().hex[:8]}",
           "LOUPE_S3_BUCKET": f"two-apps-{uuid.uuid4().hex[:8]}"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ensure_table(make_client("dynamodb"), env["LOUPE_DYNAMODB_TABLE"])
    ensure_bucket(make_client("s3"), env["LOUPE_S3_BUCKET"])
    # Separate data folders: nothing is shared through the disk, only through DynamoDB and S3.
    app_one = app_factory(data_dir=tmp_path / "server-1", extra_env=env)
    app_two = app_factory(data_dir=tmp_path / "server-2", extra_env=env)

    alice = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    bob = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    for pg in (alice, bob):
        pg.set_default_timeout(30_000)

    bob.goto(app_two.url)
    wait_for_app(bob)
    bob.get_by_text("Media items").first.wait_for()
    assert _metric(bob, "Media items") == "0"

    alice.goto(app_one.url + "/upload")
    wait_for_app(alice)
    name_box = alice.get_by_role("textbox", name="Who is reviewing?")
    name_box.fill("Alice")
    name_box.press("Enter")
    wait_for_app(alice)
    alice.locator("input[type='file']").set_input_files([str(ROOT / "demo" / "cat.jpg")])
    alice.get_by_text("cat.jpg").first.wait_for()
    alice.get_by_role("button", name="Ingest").click()
    alice.get_by_text("✅ ingested: 1").wait_for(timeout=60_000)
    alice.screenshot(path=str(artifacts_dir / "team-backend-app-one-upload.png"), full_page=True)

    bob.reload()
    wait_for_app(bob)
    bob.get_by_text("Media items").first.wait_for()
    assert _metric(bob, "Media items") == "1" and _metric(bob, "Images") == "1"
    bob.screenshot(path=str(artifacts_dir / "team-backend-app-two-home.png"), full_page=True)

    # The bytes came through S3: a third handle with its own empty cache reads them back.
    svc = Service(Config.from_env(), start_jobs=False)
    try:
        (item,) = svc.catalog.list()
        assert item.file_name == "cat.jpg" and item.created_by == "Alice"
        assert svc.catalog.media_path(item.media_id).read_bytes() == (ROOT / "demo" / "cat.jpg").read_bytes()
        assert not (tmp_path / "server-2" / "media").exists()
    finally:
        svc.close()
    alice.context.close()
    bob.context.close()
