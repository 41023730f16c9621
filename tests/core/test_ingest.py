"""Ingest: every supported kind is accepted by content; bad input is refused with a reason, and the batch goes on."""
from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
from PIL import Image

from core.catalog import Catalog
from core.config import Config
from core.media import MediaRejected, probe, safe_file_name
from core.stores.local import LocalBlobStore, SQLiteRecordStore
from tests.media_factory import make_audio, make_image, make_video, make_wav

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalog(tmp_path):
    config = Config(data_dir=tmp_path / "data", max_upload_bytes=2 * 1024 * 1024, max_image_pixels=50_000_000)
    records = SQLiteRecordStore(config.data_dir / "loupe.sqlite3")
    yield Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    records.close()


@pytest.mark.parametrize("name,make,kind,fmt", [
    ("a.jpg", lambda p: make_image(p, fmt="JPEG"), "image", "jpeg"),
    ("a.png", lambda p: make_image(p, fmt="PNG"), "image", "png"),
    ("a.webp", lambda p: make_image(p, fmt="WEBP"), "image", "webp"),
    ("a.gif", lambda p: make_image(p, fmt="GIF"), "image", "gif"),
    ("a.wav", make_wav, "audio", "wav"),
    ("a.mp3", make_audio, "audio", "mp3"),
    ("a.flac", make_audio, "audio", "flac"),
    ("a.ogg", make_audio, "audio", "ogg"),
    ("a.m4a", make_audio, "audio", "m4a"),
    ("a.mp4", make_video, "video", "mp4"),
    ("a.mov", make_video, "video", "mp4"),
    ("a.mkv", make_video, "video", "mkv"),
    ("a.webm", lambda p: make_video(p, codec="libvpx", audio_codec="libopus"), "video", "webm"),
])
def test_every_supported_kind_is_ingested_with_its_facts(catalog, tmp_path, name, make, kind, fmt):
    path = make(tmp_path / name)
    outcome = catalog.ingest_file(path)
    assert outcome.status == "ingested", outcome.reason
    item = catalog.get(outcome.media_id)
    assert (item.kind, item.format) == (kind, fmt)
    if kind == "image":
        assert (item.width, item.height) == (64, 48)
    else:
        assert item.duration_s == pytest.approx(1.0, abs=0.1) and item.codecs


def test_the_same_content_is_stored_once(catalog, tmp_path):
    a = make_image(tmp_path / "a.png", fmt="PNG")
    b = tmp_path / "copy-of-a.png"
    b.write_bytes(a.read_bytes())
    first, second = catalog.ingest_file(a), catalog.ingest_file(b)
    assert (first.status, second.status) == ("ingested", "duplicate")
    assert first.media_id == second.media_id
    assert catalog.counts()["total"] == 1


def _truncated_jpeg(p: Path) -> Path:
    data = (ROOT / "demo" / "cat.jpg").read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _bomb(p: Path) -> Path:
    Image.new("1", (12_000, 12_000)).save(p, format="PNG")  # 144 megapixels in a few kilobytes
    return p


def _oversized(p: Path) -> Path:
    Image.frombytes("RGB", (1100, 1000), os.urandom(1100 * 1000 * 3)).save(p, format="PNG")  # > 2 MB, random
    return p


def _xpm(p: Path) -> Path:
    p.write_text('/* XPM */\nstatic char *x[] = {\n"2 2 2 1",\n"  c #000000",\n". c #ffffff",\n" .",\n". "\n};\n')
    return p


BAD_INPUTS = [
    ("icon.xpm", _xpm, "XPM images are not supported; use JPEG, PNG, WebP or GIF."),
    ("scan.bmp", lambda p: (Image.new("RGB", (8, 8)).save(p, format="BMP"), p)[1], "BMP images are not supported"),
    ("scan.tiff", lambda p: (Image.new("RGB", (8, 8)).save(p, format="TIFF"), p)[1], "TIFF images are not supported"),
    ("truncated.jpg", _truncated_jpeg, "damaged or truncated"),
    ("empty.png", lambda p: (p.write_bytes(b""), p)[1], "empty (0 bytes)"),
    ("bomb.png", _bomb, "decompression bomb"),
    ("notes.mp4", lambda p: (p.write_text("just some text, not a video\n" * 10), p)[1],
     "not a readable image, audio or video"),
    # Fixed noise: about 1 in 270 random 4 KB files parses as a container with no streams, said in other words
    # (test_random_bytes_are_always_rejected_in_words covers those).
    ("noise.wav", lambda p: (p.write_bytes(random.Random(0).randbytes(4096)), p)[1],
     "not a readable image, audio or video"),
    ("big.png", _oversized, "over the 2 MB limit"),
]


@pytest.mark.parametrize("name,make,reason", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_rejected_with_its_reason_and_the_batch_goes_on(catalog, tmp_path, name, make, reason):
    folder = tmp_path / "batch"
    folder.mkdir()
    make_image(folder / "good-1.png", fmt="PNG", seed=1)
    make(folder / name)
    make_wav(folder / "good-2.wav")
    outcomes = {o.file: o for o in catalog.ingest_paths([folder])}
    assert outcomes[name].status == "rejected"
    assert reason in outcomes[name].reason
    assert not re.search(r"[A-Z][a-z]+Error|Exception|container|/", outcomes[name].reason)  # words, not internals
    assert outcomes["good-1.png"].status == outcomes["good-2.wav"].status == "ingested"
    assert catalog.counts()["total"] == 2


def test_random_bytes_are_always_rejected_in_words(tmp_path):
    reasons = set()
    path = tmp_path / "noise.wav"
    for seed in range(400):  # seed 131 parses as a container with no streams
        path.write_bytes(random.Random(seed).randbytes(4096))
        with pytest.raises(MediaRejected) as rejected:
            probe(path, max_bytes=1 << 20, max_pixels=10**8)
        reasons.add(str(rejected.value))
    assert reasons == {"This is not a readable image, audio or video file: its content matches none of the "
                       "supported formats.", "The file has no audio or video streams."}


def test_a_path_traversal_name_is_reduced_to_a_safe_base_name(catalog, tmp_path):
    data = make_image(tmp_path / "x.png", fmt="PNG").read_bytes()
    outcome = catalog.ingest_file(catalog.stage_bytes("../../x.png", data), name="../../x.png")
    assert outcome.status == "ingested"
    assert catalog.get(outcome.media_id).file_name == "x.png"
    assert not (tmp_path / "x.png").exists() or (tmp_path / "x.png").read_bytes() == data  # the source we made
    assert not (tmp_path.parent / "x.png").exists()


@pytest.mark.parametrize("raw,safe", [
    ("../../x.png", "x.png"),
    ("..\\..\\windows\\x.png", "x.png"),
    ("/etc/passwd", "passwd"),
    ("<b>bold</b>.png", "b_.png"),
    ("<img onerror=x>.png", "_img onerror=x_.png"),
    ("..", "unnamed"),
    ("a\x00b.jpg", "a_b.jpg"),
])
def test_safe_file_name(raw, safe):
    assert safe_file_name(raw) == safe


def test_the_pixel_limit_is_configurable(tmp_path):
    config = Config(data_dir=tmp_path / "d", max_image_pixels=1000)
    records = SQLiteRecordStore(config.data_dir / "db.sqlite3")
    catalog = Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    outcome = catalog.ingest_file(make_image(tmp_path / "a.png", fmt="PNG"))
    assert outcome.status == "rejected" and "megapixel limit" in outcome.reason
    records.close()


def test_a_missing_file_is_rejected_not_raised(catalog, tmp_path):
    outcome = catalog.ingest_file(tmp_path / "nope.jpg")
    assert outcome.status == "rejected" and "does not exist" in outcome.reason


def _image(tmp_path: Path, relative: str, fmt: str, seed: int) -> Path:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_image(path, fmt=fmt, seed=seed)


@pytest.mark.parametrize("raw,safe", [
    ("\u202egnp.exe", "gnp.exe"),  # shown as "exe.png" if the right-to-left override were kept
    ("photo\u202e\u2066gpj.\u2069exe", "photogpj.exe"),
    ("\u200fname\u200e.png", "name.png"),
    ("zero\u200bwidth\ufeff.png", "zerowidth.png"),
    ("line\u2028break.png", "line_break.png"),
    ("\u202e", "unnamed"),
])


def test_invisible_format_characters_are_dropped_from_names(raw, safe):
    assert safe_file_name(raw) == safe


def test_emoji_joiners_are_kept_in_names():
    assert safe_file_name("\U0001F468\u200d\U0001F469.png") == "\U0001F468\u200d\U0001F469.png"


def test_a_long_name_keeps_its_extension_when_shortened():
    name = safe_file_name("a" * 300 + ".jpeg")
    assert len(name) == 200 and name.endswith("a.jpeg")
    assert safe_file_name("b" * 300) == "b" * 200


def test_two_files_with_one_name_get_distinct_display_names(catalog, tmp_path):
    first = catalog.ingest_file(_image(tmp_path, "1/photo.jpg", "JPEG", 1))
    second = catalog.ingest_file(_image(tmp_path, "2/photo.jpg", "JPEG", 2))
    third = catalog.ingest_file(_image(tmp_path, "3.png", "PNG", 3), name="PHOTO.JPG")
    assert [o.status for o in (first, second, third)] == ["ingested"] * 3
    assert (first.file, second.file, third.file) == ("photo.jpg", "photo (2).jpg", "PHOTO (3).JPG")
    assert catalog.find("photo.jpg").media_id == first.media_id
    assert catalog.find("photo (2).jpg").media_id == second.media_id
    assert catalog.find("PHOTO (3).JPG").media_id == third.media_id


def test_a_long_name_numbered_for_a_clash_keeps_its_extension(catalog, tmp_path):
    name = "x" * 300 + ".png"
    catalog.ingest_file(_image(tmp_path, "a.png", "PNG", 1), name=name)
    outcome = catalog.ingest_file(_image(tmp_path, "b.png", "PNG", 2), name=name)
    assert outcome.file.endswith("x (2).png") and len(outcome.file) == 200


def test_concurrent_ingests_under_one_name_never_share_it(catalog, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    paths = [_image(tmp_path, f"{i}/scan.png", "PNG", i) for i in range(5)]
    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(catalog.ingest_file, paths))
    assert sorted(o.file for o in outcomes) == ["scan (2).png", "scan (3).png", "scan (4).png", "scan (5).png",
                                                "scan.png"]
    assert len({catalog.find(o.file).media_id for o in outcomes}) == 5


def test_items_stored_before_names_were_unique_are_renamed_once(tmp_path):
    """Two items that already share a name (written by an older version) become unambiguous by name."""
    from core.catalog import KIND, NAME_KIND

    config = Config(data_dir=tmp_path / "data")
    records = SQLiteRecordStore(config.data_dir / "loupe.sqlite3")
    catalog = Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    ids = []
    for i in range(2):
        ids.append(catalog.ingest_file(_image(tmp_path, f"{i}/same.png", "PNG", i)).media_id)
    records.put(KIND, ids[1], {**records.get(KIND, ids[1]).body, "file_name": "same.png"},
                expected_version=records.get(KIND, ids[1]).version, parent="image")
    for rec in list(records.query(NAME_KIND)):
        records.delete(NAME_KIND, rec.key)
    fresh = Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    assert fresh.find("same.png").media_id == ids[0]
    assert fresh.get(ids[1]).file_name == "same (2).png"
    assert fresh.find("same (2).png").media_id == ids[1]
    records.close()


def test_media_longer_than_the_duration_limit_is_refused_in_words(tmp_path):
    config = Config(data_dir=tmp_path / "d", max_media_duration_s=2)
    records = SQLiteRecordStore(config.data_dir / "db.sqlite3")
    catalog = Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    outcome = catalog.ingest_file(make_wav(tmp_path / "long.wav", seconds=3))
    assert outcome.status == "rejected"
    assert outcome.reason == ("The audio is 0:00:03 long, over the 0:00:02 limit (LOUPE_MAX_MEDIA_DURATION_S); "
                              "cut it into shorter parts.")
    assert catalog.ingest_file(make_wav(tmp_path / "short.wav", seconds=1)).status == "ingested"
    records.close()
