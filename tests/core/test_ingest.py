"""Ingest: every supported kind is accepted by content; bad input is refused with a reason, and the batch goes on."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from core.catalog import Catalog
from core.config import Config
from core.media import safe_file_name
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


BAD_INPUTS = [
    ("truncated.jpg", _truncated_jpeg, "damaged or truncated"),
    ("empty.png", lambda p: (p.write_bytes(b""), p)[1], "empty (0 bytes)"),
    ("bomb.png", _bomb, "decompression bomb"),
    ("notes.mp4", lambda p: (p.write_text("just some text, not a video\n" * 10), p)[1], "not a readable image, audio or video"),
    ("noise.wav", lambda p: (p.write_bytes(os.urandom(4096)), p)[1], "not a readable image, audio or video"),
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
    assert outcomes["good-1.png"].status == outcomes["good-2.wav"].status == "ingested"
    assert catalog.counts()["total"] == 2


def test_a_path_traversal_name_is_reduced_to_a_safe_base_name(catalog, tmp_path):
    data = make_image(tmp_path / "x.png", fmt="PNG").read_bytes()
    outcome = catalog.ingest_bytes("../../x.png", data)
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
