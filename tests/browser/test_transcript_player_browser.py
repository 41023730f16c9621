"""The Transcripts player streams the stored file from /stored-media/<id> by range, instead of a copy of the
whole file per session in Streamlit's media store; a click on a segment still moves the player there."""
from __future__ import annotations

import pytest

from core.config import Config
from core.domain import Segment, Transcript, Word
from core.service import Service
from tests.browser.conftest import wait_for_app
from tests.media_factory import make_wav

pytestmark = pytest.mark.browser


def test_the_player_streams_the_stored_file_by_range(app_factory, page, tmp_path, artifacts_dir):
    data_dir = tmp_path / "data"
    seed = Service(Config(data_dir=data_dir), start_jobs=False)
    media_id = seed.catalog.ingest_file(make_wav(tmp_path / "tone.wav", seconds=20.0)).media_id
    seed.transcripts.save_model_transcript(media_id, Transcript(media_id, segments=(
        Segment(0.0, 2.0, "first part", (Word("first", 0.0, 1.0, 0.9), Word("part", 1.0, 2.0, 0.9))),
        Segment(12.0, 14.0, "second part", (Word("second", 12.0, 13.0, 0.9), Word("part", 13.0, 14.0, 0.3))),
    ), language="en", duration_s=20.0, model_version="test"))
    seed.close()
    app = app_factory(data_dir=data_dir)
    page.goto(f"{app.url}/transcript?media={media_id}")
    wait_for_app(page)
    try:
        audio = page.locator("audio")
        audio.wait_for(state="attached")
        src = audio.get_attribute("src")
        assert src == f"{app.url}/stored-media/{media_id}"
        page.wait_for_function("() => document.querySelector('audio').readyState >= 1")  # metadata loaded
        assert page.evaluate("() => document.querySelector('audio').duration") == pytest.approx(20.0, abs=0.1)
        partial = page.request.get(src, headers={"Range": "bytes=0-1023"})
        assert partial.status == 206 and len(partial.body()) == 1024
        page.get_by_role("button", name="▶", exact=True).nth(1).click()  # the second segment, at 0:12.0
        wait_for_app(page)
        page.wait_for_function("() => Math.abs(document.querySelector('audio').currentTime - 12) < 0.5")
        assert page.locator("audio").get_attribute("src") == src
    finally:
        page.screenshot(path=str(artifacts_dir / "transcript-player.png"), full_page=True)
