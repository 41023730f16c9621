"""AppTest runs of the Images page."""
from __future__ import annotations

from tests.core.labeling_fixtures import ASTRONAUT, CAT

SCRIPT = "<script>alert(1)</script>"


def test_the_images_page_lists_images_and_shows_labels_escaped(seeded, app_at):
    seeded.catalog.ingest_file(ASTRONAUT)
    cat = seeded.catalog.ingest_file(CAT).media_id  # the newest image is shown first
    seeded.labeling.import_bytes("p.csv", f"media,label,confidence\n{cat},Cat,0.93\n{cat},{SCRIPT},0.5\n".encode())
    at = app_at("pages/images.py")
    assert at.title[0].value == "Images"
    shown = " ".join(m.value for m in at.markdown)
    assert "Cat - 93.00%" in shown and SCRIPT not in shown and "&lt;script&gt;" in shown
    assert at.button(key="images.label_all").label == "Label all unlabeled (1)"


def test_label_all_unlabeled_starts_a_job_that_labels_them(seeded, app_at):
    seeded.catalog.ingest_file(CAT)
    at = app_at("pages/images.py")
    at.button(key="images.label_all").click().run()
    assert not at.exception
    job = seeded.jobs.wait(seeded.jobs.recent(1, kind="label")[0].job_id, 180)
    assert job.status == "succeeded" and job.result["labeled"] == 1
    at.run()
    assert any("Cat - " in m.value for m in at.markdown)


def test_the_images_page_invites_an_upload_when_there_are_no_images(app_at):
    at = app_at("pages/images.py")
    assert "No images yet" in at.info[0].value


def test_the_import_report_lists_skipped_rows_as_text():
    from streamlit.testing.v1 import AppTest

    def script():
        from components.labels import import_report

        import_report({"file": "p.csv", "format": "csv", "imported": 1, "labels": 2, "confidence_scale": "0-100",
                       "errors": ["line 3: no media item is named '<script>alert(1)</script>'"]})

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert "1 image, 2 labels imported" in at.success[0].value and "1 row skipped" in at.warning[0].value
    assert "<script>" in at.dataframe[0].value.iloc[0, 0]  # a dataframe cell is text, never HTML


def test_a_label_job_that_cannot_reach_rekognition_says_why_on_the_page(seeded, app_at, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing leaves the machine
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    seeded.catalog.ingest_file(CAT)
    at = app_at("pages/images.py")
    at.selectbox(key="images.backend").set_value("rekognition").run()
    at.button(key="images.label_all").click().run()
    job = seeded.jobs.wait(seeded.jobs.recent(1, kind="label")[0].job_id, 60)
    assert job.result.get("failed") == 1, (job.status, job.error)
    at.run()
    assert "1 image could not be labeled" in at.warning[0].value
    assert "No AWS credentials" in at.dataframe[-1].value["reason"].iloc[0]


def _many_images(seeded, n: int) -> None:
    """n images listed before the real one (older), written in bulk: the list never opens their files."""
    from core.catalog import records_for
    from core.domain import MediaItem

    items = [MediaItem(media_id=f"{i:064x}", kind="image", file_name=f"old-{i:03d}.jpg", size_bytes=1, format="jpeg",
                       status="reviewed" if i % 10 == 0 else "new", created_at=f"2020-01-01T00:{i // 60:02d}:"
                       f"{i % 60:02d}.000Z") for i in range(n)]
    seeded.records.put_many(r for item in items for r in records_for(item))
    seeded.catalog.recount()


def _caption(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_the_images_list_pages_with_next_and_previous(seeded, app_at):
    _many_images(seeded, 60)
    seeded.catalog.ingest_file(CAT)
    at = app_at("pages/images.py")
    assert "1–50 of 61 images" in _caption(at) and len(at.dataframe[0].value) == 50
    assert at.dataframe[0].value["file"].iloc[0] == "chelsea.png"  # newest first
    at.button(key="images.filter.next").click().run()
    assert "51–61 of 61 images" in _caption(at) and at.dataframe[0].value["file"].iloc[-1] == "old-000.jpg"
    assert at.button(key="images.filter.next").disabled
    at.button(key="images.filter.prev").click().run()
    assert "1–50 of 61 images" in _caption(at)


def test_the_images_list_searches_by_name_status_and_label(seeded, app_at):
    _many_images(seeded, 30)
    cat = seeded.catalog.ingest_file(CAT).media_id
    seeded.labeling.import_bytes("p.csv", f"media,label,confidence\n{cat},Cat,0.93\n".encode())
    at = app_at("pages/images.py")
    at.text_input(key="images.filter.name").input("OLD-02").run()
    assert at.dataframe[0].value["file"].tolist() == [f"old-{i:03d}.jpg" for i in range(29, 19, -1)]
    at.text_input(key="images.filter.name").input("").run()
    at.selectbox(key="images.filter.status").set_value("reviewed").run()
    assert "1–3 of 3 images" in _caption(at) and not at.exception
    at.selectbox(key="images.filter.status").set_value("").run()
    at.text_input(key="images.filter.label").input("cat").run()
    assert at.dataframe[0].value["file"].tolist() == ["chelsea.png"]
    assert "Cat - 93.00%" in at.dataframe[0].value["top labels"].iloc[0]
    at.slider(key="images.filter.confidence").set_value((0.95, 1.0)).run()
    assert "No images match" in _caption(at) and not at.exception
