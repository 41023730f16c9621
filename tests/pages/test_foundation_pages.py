"""AppTest runs of Home, Upload and Settings against a real service in a temp folder."""
from __future__ import annotations

from pathlib import Path

from core.demo import demo_files

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
    photos = len([p for p in demo_files() if Path(p[0]).suffix == ".jpg"])
    assert job.result["counts"] == {"ingested": photos + 2}
    assert (job.result["labeled"], job.result["transcribed"]) == (photos, 2)
    assert service.predictions.get(service.catalog.find("cat.jpg").media_id) is not None
    assert service.transcripts.latest(service.catalog.find("welcome.wav").media_id) is not None
    assert job.result["loops_created"] >= 1
    assert service.review.summary("someone")[0].open_loops == job.result["loops_created"]
    assert service.catalog.counts()["by_kind"] == {"image": photos, "audio": 1, "video": 1}


def test_upload_page_renders_with_its_uploader(app_at):
    at = app_at("pages/upload.py", reviewer="ann")
    assert at.title[0].value == "Upload media"
    assert any(b.label == "Load demo data" for b in at.button)
    assert any("New images are labeled as soon as they are ingested" in c.value for c in at.caption)


def test_upload_page_says_when_new_images_are_not_labeled(app_at, monkeypatch):
    monkeypatch.setenv("LOUPE_AUTO_LABEL", "0")
    at = app_at("pages/upload.py", reviewer="ann")
    assert any("New images are not labeled after upload" in c.value for c in at.caption)


def test_settings_shows_where_data_lives(app_at, data_dir):
    at = app_at("pages/settings.py")
    values = at.table[0].value["value"].tolist()
    assert str(data_dir) in values and "local" in values


def test_the_sidebar_asks_who_is_reviewing(app_at):
    at = app_at()
    assert at.sidebar.text_input(key="app.reviewer").label == "Who is reviewing?"


def _loops(service, workflow: str, task_type: str, n: int) -> None:
    from core.domain import HumanLoop, Workflow
    from core.loops import loop_id_for

    service.workflows.save(Workflow(name=workflow, task_type=task_type))
    for i in range(n):
        media_id = f"item-{workflow}-{i}"
        service.loops.create(HumanLoop(loop_id=loop_id_for(workflow, media_id), media_id=media_id, workflow=workflow))


def test_home_says_how_many_tasks_wait_for_the_reviewer_with_a_link_to_their_page(seeded, app_at):
    seeded.catalog.ingest_file(ROOT / "demo" / "cat.jpg")
    _loops(seeded, "labels-pass", "label_review", 3)
    _loops(seeded, "moderation-pass", "moderation", 1)
    at = app_at(reviewer="ann")
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert "3 tasks wait for you in Label review →" in links
    assert links["3 tasks wait for you in Label review →"].endswith("label_review")
    assert "1 task waits for you in Moderation →" in links


def test_home_job_rows_say_when_who_and_which_workflow(seeded, app_at):
    seeded.catalog.ingest_file(ROOT / "demo" / "cat.jpg")
    seeded.jobs.register("noop", lambda ctx, params: {"workflow": "labels-pass"})
    seeded.jobs.wait(seeded.jobs.submit("noop", created_by="ann").job_id, 30)
    at = app_at()
    from components.markup import as_shown

    details = [as_shown(c.value) for c in at.caption if c.value.startswith("started ")]
    assert details and " UTC · by ann · workflow labels-pass" in details[0]
