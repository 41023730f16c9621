"""The foundation's page tests again, on LOUPE_STORE=dynamodb (moto_server, with an S3 bucket), plus Settings'
health messages for the team backend."""
from __future__ import annotations

import uuid

import pytest

from components.markup import as_shown
from core.aws import make_client
from core.stores.aws_setup import ensure_bucket, ensure_table
from tests.dynamodb_servers import aws_env, endpoint_for
from tests.pages.test_foundation_pages import (  # noqa: F401
    test_demo_button_runs_the_whole_loop_up_to_the_review_queue,
    test_home_counts_what_is_in_the_store,
    test_home_shows_a_failed_jobs_stored_error,
    test_home_shows_counts_and_offers_demo_data_when_empty,
    test_upload_page_renders_with_its_uploader,
)


@pytest.fixture
def team_names() -> dict[str, str]:
    return {"LOUPE_DYNAMODB_TABLE": f"pages-{uuid.uuid4().hex[:8]}", "LOUPE_S3_BUCKET": f"pages-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def unprovisioned(tmp_path, monkeypatch, team_names):
    """The app pointed at a DynamoDB table and bucket nobody has created yet."""
    path = tmp_path / "data"
    monkeypatch.setenv("LOUPE_DATA_DIR", str(path))
    monkeypatch.setenv("LOUPE_STORE", "dynamodb")
    for name, value in {**aws_env(endpoint_for("moto")), **team_names}.items():
        monkeypatch.setenv(name, value)
    return path


@pytest.fixture
def data_dir(unprovisioned, team_names):
    """Overrides the pages' fixture: the same tests, with every record in DynamoDB and media in S3."""
    ensure_table(make_client("dynamodb"), team_names["LOUPE_DYNAMODB_TABLE"])
    ensure_bucket(make_client("s3"), team_names["LOUPE_S3_BUCKET"])
    return unprovisioned


def test_settings_says_the_team_backend_is_reachable(app_at, team_names):
    at = app_at("pages/settings.py")
    values = at.table[0].value["value"].tolist()
    assert "dynamodb" in values and any(team_names["LOUPE_DYNAMODB_TABLE"] in v for v in values)
    assert [s.value for s in at.success][:2] == [  # then the Model work section's own message
        f"Records: DynamoDB table {team_names['LOUPE_DYNAMODB_TABLE']!r} is reachable (active, about 0 items).",
        f"Media: S3 bucket {team_names['LOUPE_S3_BUCKET']!r} is reachable."]


def test_settings_says_what_to_do_when_the_table_is_missing(unprovisioned, team_names):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("does not exist" in e and "python -m core setup-aws" in e for e in errors), errors
    assert any(team_names["LOUPE_S3_BUCKET"] in e for e in errors), errors


def test_home_explains_a_missing_table_in_words_instead_of_a_traceback(unprovisioned, team_names):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any(team_names["LOUPE_DYNAMODB_TABLE"] in as_shown(e.value) and "setup-aws" in as_shown(e.value)
               for e in at.error)
