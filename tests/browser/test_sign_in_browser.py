"""A real browser signs in through a real OpenID provider (oidc-provider on loopback: its login form, code flow and
signed ID token) as an admin and as a reviewer, and sees only what the role allows; sign-out ends access."""
from __future__ import annotations

import os

import pytest

from core.access import Actor
from core.config import Config
from core.domain import HumanLoop, Workflow
from core.service import Service
from tests.browser.conftest import ROOT, free_port, sign_in, wait_for_app, write_auth_secrets

pytestmark = pytest.mark.browser

ADMIN, REVIEWER = "admin@example.test", "reviewer@example.test"


@pytest.fixture
def team_app(app_factory, oidc_issuer, tmp_path):
    """The app with LOUPE_AUTH=oidc against the provider; the admin from LOUPE_ADMINS, the reviewer a member on the
    team of "night-flow" only; both workflows have an open loop."""
    data = tmp_path / "data"
    secrets = tmp_path / "secrets.toml"
    env = {"LOUPE_AUTH": "oidc", "LOUPE_ADMINS": ADMIN}
    with Service(Config.from_env({**os.environ, **env, "LOUPE_DATA_DIR": str(data)}), start_jobs=False) as svc:
        svc.members.add(REVIEWER, "reviewer", ["night"], actor=Actor(ADMIN))
        media_id = svc.catalog.ingest_file(ROOT / "demo" / "cat.jpg").media_id
        for name, team in (("night-flow", ("night",)), ("day-flow", ("someone@example.test",))):
            svc.workflows.save(Workflow(name, task_type="moderation", time_limit_s=600, team=team), actor=Actor(ADMIN))
            svc.loops.create(HumanLoop(f"{name}-loop", media_id, name, reasons=("Weapons",)))
    return _start_signed_in(app_factory, oidc_issuer, data, secrets, env)


@pytest.fixture
def empty_team_app(app_factory, oidc_issuer, tmp_path):
    """The app with LOUPE_AUTH=oidc and an empty store; the admin from LOUPE_ADMINS."""
    env = {"LOUPE_AUTH": "oidc", "LOUPE_ADMINS": ADMIN}
    return _start_signed_in(app_factory, oidc_issuer, tmp_path / "data", tmp_path / "secrets.toml", env)


def _start_signed_in(app_factory, issuer: str, data, secrets, env: dict[str, str]):
    """Start the app on a new port with a secrets file whose [auth] points at the provider."""
    port = free_port()
    write_auth_secrets(secrets, port, issuer)
    return app_factory(data, {**env, "STREAMLIT_SECRETS_FILES": str(secrets)}, port)


def _sign_in(page, app, email: str) -> None:
    sign_in(page, app.url, email)


def _nav(page) -> list[str]:
    """The page titles in the sidebar navigation (each link's text is its icon, then its title)."""
    return [t.strip().split("\n")[-1] for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]


def test_an_anonymous_visitor_sees_only_the_sign_in_page(team_app, page):
    for path in ("", "/settings", "/results", "/members"):
        page.goto(team_app.url + path)
        wait_for_app(page)
        page.get_by_role("button", name="Sign in").wait_for()
        assert "night-flow" not in page.content() and "Results" not in _nav(page)


def test_a_reviewer_sees_only_their_pages_and_their_team_s_tasks_then_signs_out(team_app, page, artifacts_dir):
    _sign_in(page, team_app, REVIEWER)
    nav = _nav(page)
    assert not {"Settings", "Members", "Results", "Upload"} & set(nav) and "Moderation task" in nav
    page.goto(team_app.url + "/settings")  # not routed for a reviewer: the default page instead
    wait_for_app(page)
    assert "Labeling and transcription" not in page.content()
    page.goto(team_app.url + "/moderation_task")
    wait_for_app(page)
    page.get_by_text("night-flow").first.wait_for()
    assert "day-flow" not in page.content() and not page.get_by_label("Who is reviewing?").count()
    page.screenshot(path=str(artifacts_dir / "sign-in-reviewer.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/session/end**")  # Streamlit dropped its cookie and sent us to the provider's logout
    page.goto(team_app.url + "/moderation_task")
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").wait_for()


def test_the_admin_sees_every_page_and_the_audit_log(team_app, page):
    _sign_in(page, team_app, ADMIN)
    assert {"Settings", "Members", "Results", "Upload"} <= set(_nav(page))
    page.goto(team_app.url + "/members")
    wait_for_app(page)
    page.get_by_text("Audit log").wait_for()
    with Service(Config(data_dir=team_app.data_dir), start_jobs=False) as svc:
        assert {e.who for e in svc.audit.entries(action="sign-in")} == {ADMIN}  # one per browser session


def test_the_signed_in_admin_loads_the_demo_on_home_and_the_job_is_theirs(empty_team_app, page):
    """The button runs in the jobs' fragment, whose own rerun must act as the signed-in member (it once showed a
    NotSignedIn traceback)."""
    _sign_in(page, empty_team_app, ADMIN)
    page.get_by_role("button", name="Load demo data").click()
    started = page.get_by_text(f"by {ADMIN}").or_(page.get_by_test_id("stException")).or_(
        page.get_by_test_id("stAlertContentError"))
    started.first.wait_for()
    assert not page.get_by_test_id("stException").count(), page.inner_text("body")
    assert "Sign in first" not in page.inner_text("body")
    with Service(Config(data_dir=empty_team_app.data_dir), start_jobs=False) as svc:
        assert [j.created_by for j in svc.jobs.recent(kind="demo")] == [ADMIN]
