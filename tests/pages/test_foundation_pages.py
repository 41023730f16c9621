"""AppTest runs of Home, Upload and Settings against a real service in a temp folder."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_home_shows_counts_and_offers_demo_data_when_empty(app_at):
    at = app_at()
    assert [m.value for m in at.metric][:4] == ["0", "0", "0", "0"]
    assert any(b.label == "Load demo data" for b in at.button)


def test_home_counts_what_is_in_the_store(seeded, app_at):
    seeded.catalog.ingest_file(ROOT / "demo" / "cat.jpg")
    seeded.catalog.ingest_file(ROOT / "demo" / "welcome.wav")
    at = app_at()
    assert [m.value for m in at.metric][:4] == ["2", "1", "1", "0"]


def test_home_shows_a_failed_jobs_stored_error(seeded, app_at):
    from core.errors import LoupeError

    def fail(ctx, params):
        raise LoupeError("The folder is not readable; check its permissions.")

    seeded.jobs.register("fail", fail)
    seeded.jobs.wait(seeded.jobs.submit("fail").job_id, 30)
    at = app_at()
    assert any("check its permissions" in e.value for e in at.error)


def test_demo_button_runs_the_whole_loop_up_to_the_review_queue(app_at, seeded):
    at = app_at()
    at.button(key="home.demo").click().run()
    service = seeded  # a second handle on the same store sees the app's job
    job = service.jobs.wait(service.jobs.recent(1)[0].job_id, 120)
    assert job.status == "succeeded"
    assert job.result["counts"] == {"ingested": 6}
    assert (job.result["labeled"], job.result["transcribed"]) == (4, 2)
    assert service.predictions.get(service.catalog.find("cat.jpg").media_id) is not None
    assert service.transcripts.latest(service.catalog.find("welcome.wav").media_id) is not None
    assert job.result["loops_created"] >= 1
    assert service.review.summary("someone")[0].open_loops == job.result["loops_created"]
    assert service.catalog.counts()["by_kind"] == {"image": 4, "audio": 1, "video": 1}


def test_upload_page_renders_with_its_uploader(app_at):
    at = app_at("pages/upload.py", reviewer="ann")
    assert at.title[0].value == "Upload media"
    assert any(b.label == "Load demo data" for b in at.button)


def test_settings_shows_where_data_lives(app_at, data_dir):
    at = app_at("pages/settings.py")
    values = at.table[0].value["value"].tolist()
    assert str(data_dir) in values and "local" in values


def test_the_sidebar_asks_who_is_reviewing(app_at):
    at = app_at()
    assert at.sidebar.text_input(key="app.reviewer").label == "Who is reviewing?"
