"""A real browser labels the unlabeled images on the Images page and sees labels as bars and boxes."""
from __future__ import annotations

import pytest

from core.config import Config
from core.service import Service
from tests.browser.conftest import wait_for_app
from tests.core.labeling_fixtures import ASTRONAUT, CAT

pytestmark = pytest.mark.browser


def test_label_all_unlabeled_shows_person_and_face_with_boxes(app_factory, page, tmp_path, artifacts_dir):
    data_dir = tmp_path / "data"
    seed = Service(Config(data_dir=data_dir), start_jobs=False)
    seed.catalog.ingest_file(CAT)
    seed.catalog.ingest_file(ASTRONAUT)  # newest: shown in the item panel
    seed.close()
    app = app_factory(data_dir=data_dir)
    page.goto(app.url + "/images")
    wait_for_app(page)
    try:
        page.get_by_role("button", name="Label all unlabeled (2)").click()
        page.locator(".lb-name", has_text="Person - ").wait_for(timeout=120_000)
        page.locator(".lb-name", has_text="Face - ").wait_for()
        assert page.locator("[data-testid='stImage'] img").count() >= 1
    finally:
        page.screenshot(path=str(artifacts_dir / "images-labeled.png"), full_page=True)


def test_importing_a_csv_keeps_good_rows_and_lists_the_skipped_ones(app_factory, page, tmp_path, artifacts_dir):
    data_dir = tmp_path / "data"
    seed = Service(Config(data_dir=data_dir), start_jobs=False)
    seed.catalog.ingest_file(CAT)
    seed.close()
    table = tmp_path / "mine.csv"
    table.write_text("media,label,confidence,parent\nchelsea.png,Cat,97,Animal\nchelsea.png,Dog,lots,\n")
    app = app_factory(data_dir=data_dir)
    page.goto(app.url + "/images")
    wait_for_app(page)
    try:
        page.get_by_text("Import predictions").click()
        page.locator("input[type='file']").set_input_files(str(table))
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("1 image, 1 label imported").wait_for(timeout=30_000)
        page.get_by_text("1 row skipped").wait_for()
        page.locator(".lb-name", has_text="Cat - 97.00%").wait_for()
    finally:
        page.screenshot(path=str(artifacts_dir / "images-import.png"), full_page=True)


def test_the_images_list_pages_and_searches_in_a_browser(app_factory, page, tmp_path, artifacts_dir):
    from core.catalog import records_for
    from core.domain import Label, MediaItem, Prediction

    data_dir = tmp_path / "data"
    seed = Service(Config(data_dir=data_dir), start_jobs=False)
    older = [MediaItem(media_id=f"{i:064x}", kind="image", file_name=f"street-{i:03d}.jpg", size_bytes=1,
                       format="jpeg", status="labeled" if i % 3 else "reviewed",
                       created_at=f"2020-01-01T00:{i // 60:02d}:{i % 60:02d}.000Z") for i in range(120)]
    seed.records.put_many(r for item in older for r in records_for(item))
    seed.catalog.recount()
    seed.predictions.save_many(Prediction(item.media_id, "bench-1", (Label("Car", 0.5 + i / 300), Label("Road", 0.7)))
                               for i, item in enumerate(older))
    cat = seed.catalog.ingest_file(CAT).media_id
    seed.predictions.save(Prediction(cat, "test-1", (Label("Cat", 0.93), Label("Animal", 0.91))))
    seed.close()
    app = app_factory(data_dir=data_dir)
    page.goto(app.url + "/images")
    wait_for_app(page)
    try:
        page.get_by_text("1–50 of 121 images").wait_for()
        grid = page.locator("[data-testid='stDataFrame']").first.bounding_box()
        page.mouse.click(grid["x"] + 15, grid["y"] + 35 + 35 + 17)  # the second row's selection box
        page.get_by_role("button", name="Label selected (1)").wait_for()
        page.mouse.move(0, 0)  # away from the table, whose hover toolbar covers the Next button
        page.get_by_role("button", name="Next →").click()
        page.get_by_text("51–100 of 121 images").wait_for()
        page.get_by_role("button", name="Label selected (0)").wait_for()  # a selection stays with its own page
        page.get_by_label("Search by name").fill("street-00")
        page.get_by_label("Search by name").press("Enter")
        page.get_by_text("10 images match").wait_for()
    finally:
        page.screenshot(path=str(artifacts_dir / "images-list.png"), full_page=True)
