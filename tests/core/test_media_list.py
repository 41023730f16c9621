"""Media lists: pages in the order asked, filters applied while reading, and a bounded read per page."""
from __future__ import annotations

import pytest

from core.catalog import Catalog, records_for
from core.config import Config
from core.domain import Label, MediaItem, Prediction
from core.media_list import MediaFilter, MediaList
from core.predictions import Predictions
from core.stores.local import LocalBlobStore, SQLiteRecordStore


@pytest.fixture
def media(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    records = SQLiteRecordStore(config.data_dir / "loupe.sqlite3")
    catalog = Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    yield MediaList(records, catalog), records, catalog
    records.close()


def _item(i: int, kind: str = "image", status: str = "new", name: str = "") -> MediaItem:
    return MediaItem(media_id=f"{i:064x}", kind=kind, file_name=name or f"file{i:03d}.jpg", size_bytes=1,
                     format="jpeg", status=status, created_at=f"2026-01-01T00:00:{i:02d}.000Z")


def _seed(records, catalog, items) -> None:
    records.put_many(r for item in items for r in records_for(item))
    catalog.recount()


def _names(page) -> list[str]:
    return [row.item.file_name for row in page.rows]


def _everything(listing, wanted, **kwargs) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = listing.page(wanted, after=cursor, **kwargs)
        pages.append(_names(page))
        if page.cursor is None:
            return pages
        cursor = page.cursor


def test_images_come_newest_first_a_page_at_a_time(media):
    listing, records, catalog = media
    _seed(records, catalog, [_item(i) for i in range(5)] + [_item(9, kind="audio", name="talk.wav")])
    first = listing.page(MediaFilter(), limit=2)
    assert _names(first) == ["file004.jpg", "file003.jpg"] and first.matches == 5 and first.read == 3
    assert _everything(listing, MediaFilter(), limit=2) == [["file004.jpg", "file003.jpg"],
                                                            ["file002.jpg", "file001.jpg"], ["file000.jpg"]]
    oldest = _everything(listing, MediaFilter(order="oldest"), limit=3)
    assert oldest == [["file000.jpg", "file001.jpg", "file002.jpg"], ["file003.jpg", "file004.jpg"]]


def test_names_sort_case_blind_in_either_direction(media):
    listing, records, catalog = media
    _seed(records, catalog, [_item(1, name="b.jpg"), _item(2, name="A.jpg"), _item(3, name="c.jpg"),
                             _item(4, kind="audio", name="a0.wav")])
    assert _everything(listing, MediaFilter(order="name"), limit=2) == [["A.jpg", "b.jpg"], ["c.jpg"]]
    assert _names(listing.page(MediaFilter(order="name_desc"))) == ["c.jpg", "b.jpg", "A.jpg"]


def test_audio_and_video_merge_into_one_newest_first_list(media):
    listing, records, catalog = media
    _seed(records, catalog, [_item(i, kind="audio" if i % 2 else "video", name=f"m{i}") for i in range(6)]
          + [_item(7, name="img")])
    wanted = MediaFilter(kinds=("audio", "video"))
    assert _everything(listing, wanted, limit=4) == [["m5", "m4", "m3", "m2"], ["m1", "m0"]]
    assert listing.page(wanted).matches == 6


def test_a_status_filter_is_counted_by_the_counters_and_none_reads_nothing(media):
    listing, records, catalog = media
    _seed(records, catalog, [_item(i, status="reviewed" if i in (1, 3) else "new") for i in range(6)])
    page = listing.page(MediaFilter(status="reviewed"))
    assert _names(page) == ["file003.jpg", "file001.jpg"] and page.matches == 2 and page.cursor is None
    empty = listing.page(MediaFilter(status="in_review"))
    assert empty.rows == () and empty.read == 0 and empty.matches == 0


def test_label_and_confidence_filters_join_the_predictions(media):
    listing, records, catalog = media
    _seed(records, catalog, [_item(i) for i in range(4)])
    Predictions(records).save_many([
        Prediction(_item(0).media_id, "m", (Label("Cat", 0.95), Label("Animal", 0.97))),
        Prediction(_item(1).media_id, "m", (Label("cat", 0.40),)),
        Prediction(_item(2).media_id, "m", (Label("Dog", 0.90),)),
    ])
    assert _names(listing.page(MediaFilter(label="CAT"))) == ["file001.jpg", "file000.jpg"]
    assert _names(listing.page(MediaFilter(label="cat", min_confidence=0.5))) == ["file000.jpg"]
    assert _names(listing.page(MediaFilter(max_confidence=0.5))) == ["file001.jpg"]
    shown = listing.page(MediaFilter(name="file00"), with_predictions=True)
    assert [row.prediction is not None for row in shown.rows] == [False, True, True, True]


def test_a_rare_match_is_searched_for_in_bounded_reads(media):
    listing, records, catalog = media
    _seed(records, catalog, [_item(i, name="needle.jpg" if i in (3, 40) else "") for i in range(50)])
    first = listing.page(MediaFilter(name="needle", order="oldest"), limit=5, max_read=20)
    assert _names(first) == ["needle.jpg"] and first.read == 20 and first.cursor is not None
    second = listing.page(MediaFilter(name="needle", order="oldest"), after=first.cursor, limit=5, max_read=20)
    assert second.rows == () and second.cursor is not None
    third = listing.page(MediaFilter(name="needle", order="oldest"), after=second.cursor, limit=5, max_read=20)
    assert [row.item.media_id for row in third.rows] == [_item(40).media_id] and third.cursor is None
