"""Sign-in through the real app script: LOUPE_AUTH=oidc shows anonymous visitors and non-members nothing, hides pages
by role and answers as the signed-in member; LOUPE_AUTH=none keeps the typed name across a reload and warns when the
server is exposed."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit import config as streamlit_options
from streamlit.testing.v1 import AppTest

from components.markup import plain
from core.access import Actor
from core.config import Config
from core.domain import HumanLoop, Job, Workflow, as_dict
from core.jobs import KIND as JOB_KIND
from core.service import Service
from tests.pages.conftest import APP

ADMIN = "ann@x.org"
ROOT = Path(__file__).resolve().parents[2]


def _user(email: str | None) -> dict:
    return {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email,
                                                           "email_verified": True}


@pytest.fixture
def team(data_dir, monkeypatch):
    monkeypatch.setenv("LOUPE_AUTH", "oidc")
    monkeypatch.setenv("LOUPE_ADMINS", ADMIN)
    svc = Service(Config.from_env(), start_jobs=False)
    svc.members.add("rita@x.org", "reviewer", actor=Actor(ADMIN))
    svc.workflows.save(Workflow("secret-flow", title="Secret workflow"), actor=Actor(ADMIN))
    yield svc
    svc.close()


def _open(email: str | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = _user(email)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def _not_routed(at: AppTest, page: str) -> None:
    """AppTest refuses to open a page the router did not register for this visitor, as a browser gets the default
    page for its URL."""
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)


def _text(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("title", "markdown", "caption", "warning", "info", "error")
                    for e in getattr(at, kind))


def test_an_anonymous_visitor_sees_only_a_sign_in_button_and_no_data(team):
    at = _open(None)
    assert [b.label for b in at.button] == ["Sign in"]
    assert "secret" not in _text(at).lower() and not at.sidebar.text_input
    _not_routed(at, "pages/results.py")


def test_a_signed_in_email_that_is_not_a_member_is_told_to_ask_an_admin(team):
    at = _open("mallory@x.org")
    assert "not a member of this project. Ask an admin" in _text(at)
    _not_routed(at, "pages/settings.py")
    assert team.audit.entries(action="sign-in")[-1].detail == "refused: not a member"


def test_a_reviewer_cannot_open_settings_or_members_and_types_no_name(team):
    at = _open("rita@x.org")
    for page in ("pages/settings.py", "pages/members.py", "pages/results.py", "pages/upload.py"):
        _not_routed(at, page)
    at.switch_page("pages/label_review.py")
    at.run()
    assert not at.exception, at.exception
    assert not at.sidebar.text_input  # nobody types a name
    assert f"Signed in as **{plain('rita@x.org')}** (reviewer)" in _text(at)  # Markdown-escaped, as every name


@pytest.mark.parametrize("email, role", [("rita@x.org", "reviewer"), ("vic@x.org", "viewer")])
def test_a_reviewer_or_viewer_on_an_empty_home_sees_no_load_demo_button(team, email, role):
    if role == "viewer":
        team.members.add(email, role, actor=Actor(ADMIN))
    at = _open(email)
    assert "Load demo data" not in [b.label for b in at.button]
    assert "An admin uploads media or loads the demo set" in _text(at)
    assert "Load demo data" in [b.label for b in _open(ADMIN).button]


def test_cancel_is_drawn_only_for_an_admin_or_the_one_who_started_the_job(team):
    team.members.add("vic@x.org", "viewer", actor=Actor(ADMIN))
    for job_id, by in (("1-ann", ADMIN), ("2-rita", "rita@x.org")):  # running on another server
        job = Job(job_id, "hold", status="running", created_by=by, owner="elsewhere:1:x", heartbeat_at=time.time())
        team.records.create(JOB_KIND, job_id, as_dict(job))

    def cancels(email: str) -> list[str]:
        return sorted(b.key for b in _open(email).button if b.label == "Cancel")

    assert cancels("vic@x.org") == []
    assert cancels("rita@x.org") == ["home.jobs.cancel.2-rita"]
    assert cancels(ADMIN) == ["home.jobs.cancel.1-ann", "home.jobs.cancel.2-rita"]


def test_the_admin_opens_members_and_manages_them_and_work_teams(team):
    at = _open(ADMIN, "pages/members.py")
    assert at.title[0].value == "Members"
    at.text_input(key="members.email").input("new@x.org")
    at.selectbox(key="members.role").select("viewer")
    at.button[0].click()  # the add form's submit button
    at.run()
    assert not at.exception, at.exception
    assert team.members.get("new@x.org").role == "viewer"
    assert team.audit.entries(action="member")[-1].who == ADMIN
    at.multiselect(key="members.team.secret-flow").select("rita@x.org")
    at.button(key="members.team.save").click()
    at.run()
    assert team.workflows.get("secret-flow").team == ("rita@x.org",)


def test_none_mode_keeps_the_typed_name_in_the_url_for_a_reload(data_dir):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["reviewer"] = "ann"
    at.run()
    assert at.sidebar.text_input(key="app.reviewer").value == "ann"
    at.sidebar.text_input(key="app.reviewer").input("bob")
    at.run()
    assert at.query_params["reviewer"] == "bob"


def test_none_mode_opening_an_item_on_transcripts_keeps_the_name_beside_media_in_the_url(seeded):
    media_id = seeded.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.sidebar.text_input(key="app.reviewer").input("ann").run()
    at.query_params.clear()  # a page switch starts from a bare URL
    at.switch_page("pages/transcript.py")
    at.run()
    assert not at.exception, at.exception
    assert (at.query_params["reviewer"], at.query_params["media"]) == ("ann", media_id)


def test_home_s_task_links_carry_the_typed_name(seeded):
    media_id = seeded.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
    seeded.workflows.save(Workflow("words", task_type="transcript_review"))
    seeded.loops.create(HumanLoop("words-loop", media_id, "words", reasons=("low confidence",)))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["app.reviewer"] = "ann"
    at.run()
    links = at.get("page_link")
    assert links and all(link.proto.query_string == "reviewer=ann" for link in links), links


@pytest.mark.parametrize("address, warned", [("0.0.0.0", True), ("192.168.1.20", True), ("127.0.0.1", False),
                                             ("::1", False), ("localhost", False)])
def test_none_mode_warns_on_every_page_when_the_server_listens_beyond_loopback(data_dir, address, warned):
    before = streamlit_options.get_option("server.address")
    streamlit_options.set_option("server.address", address)
    try:
        for page in (None, "pages/results.py"):
            at = AppTest.from_file(APP, default_timeout=60)
            at.run()
            if page:
                at.switch_page(page)
                at.run()
            assert any("has no sign-in" in w.value for w in at.warning) is warned
    finally:
        streamlit_options.set_option("server.address", before)
