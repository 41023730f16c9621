"""LOUPE_AUTH=none keeps the typed name in the URL: a real browser follows Home's task link to Transcripts (which
writes `?media=`) and switches pages, and `reviewer` stays in the URL beside `media` all the way, so a reload keeps
the name."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from core.config import Config
from core.domain import HumanLoop, Workflow
from core.service import Service
from tests.browser.conftest import ROOT, open_as, wait_for_app

pytestmark = pytest.mark.browser


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_following_home_s_link_to_an_item_and_switching_pages_keeps_the_reviewer_in_the_url(app_factory, page,
                                                                                             tmp_path):
    data_dir = tmp_path / "data"
    with Service(Config(data_dir=data_dir), start_jobs=False) as svc:
        media_id = svc.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
        svc.catalog.ingest_file(ROOT / "demo" / "cat.jpg")
        svc.workflows.save(Workflow("words", task_type="transcript_review"))
        svc.loops.create(HumanLoop("words-loop", media_id, "words", reasons=("low confidence",)))
    app = app_factory(data_dir=data_dir)
    open_as(page, app.url, "ann")
    page.get_by_role("link", name="1 task waits for you in Transcript review →").click()
    page.wait_for_url("**/transcript?**media=*")
    wait_for_app(page)
    assert _query(page) == {"reviewer": ["ann"], "media": [media_id]}
    nav = page.get_by_test_id("stSidebarNavItems")
    nav.get_by_role("link", name="Images").click()
    page.wait_for_url("**/images?reviewer=ann")
    wait_for_app(page)
    nav.get_by_role("link", name="Transcripts").click()
    page.wait_for_url("**/transcript?**media=*")
    wait_for_app(page)
    assert _query(page) == {"reviewer": ["ann"], "media": [media_id]}
    page.reload()
    wait_for_app(page)
    assert page.get_by_role("textbox", name="Who is reviewing?").input_value() == "ann"
