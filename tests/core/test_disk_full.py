"""A full disk is said in words (no traceback, no server path, not "could not be read", not "cannot rollback"),
and what was stored before stays intact. One real check runs the local store under a file size limit
(RLIMIT_FSIZE, in a subprocess); the rest inject the OS's errors."""
from __future__ import annotations

import errno
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.catalog import Catalog
from core.config import Config
from core.errors import LoupeError, WriteFailed, describe_error, write_failed
from core.stores.local import LocalBlobStore, SQLiteRecordStore
from tests.media_factory import make_image

ROOT = Path(__file__).resolve().parents[2]
SERVER_PATH = "/srv/loupe/secret-data/media/ab/.abcd.tmp"


@pytest.fixture
def catalog(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    records = SQLiteRecordStore(config.data_dir / "loupe.sqlite3")
    yield Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    records.close()


@pytest.mark.parametrize("exc,words", [
    (OSError(errno.ENOSPC, "No space left on device", SERVER_PATH), "disk holding Loupe's data is full"),
    (OSError(errno.EDQUOT, "Disk quota exceeded", SERVER_PATH), "disk holding Loupe's data is full"),
    (OSError(errno.EFBIG, "File too large", SERVER_PATH), "size limit"),
    (sqlite3.OperationalError("database or disk is full"), "disk holding Loupe's data is full"),
    (sqlite3.OperationalError("disk I/O error"), "input/output error"),
])
def test_a_write_failure_is_said_in_words_without_a_server_path(exc, words):
    message = str(write_failed("the media file", exc))
    assert words in message and "Could not save the media file" in message
    assert "/srv" not in message and "could not be read" not in message


def test_an_unexpected_os_error_is_described_without_its_path():
    assert "/srv" not in describe_error(OSError(errno.ENOSPC, "No space left on device", SERVER_PATH))
    assert "/srv" not in describe_error(OSError(errno.ENOENT, "No such file or directory", SERVER_PATH))


class _FailingStream(io.RawIOBase):
    """An upload stream that fails part-way, as a write to a full disk does."""

    def __init__(self, first: bytes):
        self.first = first

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.first:
            n = len(self.first)
            buffer[:n], self.first = self.first, b""
            return n
        raise OSError(errno.ENOSPC, "No space left on device", SERVER_PATH)


def test_a_batch_that_cannot_be_staged_leaves_no_file_behind(catalog, tmp_path):
    good = make_image(tmp_path / "a.png", fmt="PNG").read_bytes()
    with pytest.raises(WriteFailed) as raised:
        catalog.stage_uploads([("a.png", io.BytesIO(good)), ("b.png", _FailingStream(b"x" * 1000))])
    assert "Could not save the upload b.png" in str(raised.value) and "/srv" not in str(raised.value)
    assert list(catalog.staging_dir.iterdir()) == []


def test_uploads_are_staged_from_streams(catalog, tmp_path):
    data = make_image(tmp_path / "a.png", fmt="PNG").read_bytes()
    [[path, name]] = catalog.stage_uploads([("a.png", io.BytesIO(data))])
    assert name == "a.png" and Path(path).read_bytes() == data


def test_a_batch_over_the_file_limit_is_refused_in_words(tmp_path):
    config = Config(data_dir=tmp_path / "data", max_files_per_batch=3)
    records = SQLiteRecordStore(config.data_dir / "loupe.sqlite3")
    catalog = Catalog(records, LocalBlobStore(config.data_dir / "media"), config)
    with pytest.raises(LoupeError, match=r"4 files are more than one upload takes \(3, LOUPE_MAX_FILES_PER_BATCH\)"):
        catalog.stage_uploads([(f"{i}.png", b"x") for i in range(4)])
    assert not catalog.staging_dir.exists() or list(catalog.staging_dir.iterdir()) == []
    records.close()


_UNDER_A_FILE_SIZE_LIMIT = r'''
import io, json, resource, signal, sys
from pathlib import Path
from core.catalog import Catalog
from core.config import Config
from core.errors import LoupeError
from core.stores.base import Record
from core.stores.local import LocalBlobStore, SQLiteRecordStore

data_dir, small, big = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
config = Config(data_dir=data_dir)
records = SQLiteRecordStore(data_dir / "loupe.sqlite3")
catalog = Catalog(records, LocalBlobStore(data_dir / "media"), config)
out = {"small": catalog.ingest_file(small).as_json()}
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))
out["big"] = catalog.ingest_file(big).as_json()
for name, write in [
    ("put_many", lambda: records.put_many([Record("note", f"n{i}", {"text": "x" * 20_000}) for i in range(40)])),
    ("create", lambda: [records.create("note", f"c{i}", {"text": "y" * 20_000}) for i in range(40)]),
    ("stage", lambda: catalog.stage_uploads([("huge.bin", io.BytesIO(b"z" * 400_000))])),
]:
    try:
        write()
        out[name] = "written"
    except LoupeError as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        out[name] = f"UNEXPECTED {type(exc).__name__}: {exc}"
print(json.dumps(out))
'''


def test_writes_past_a_file_size_limit_fail_in_words_and_keep_the_data(tmp_path):
    """The real thing: SQLite and the media folder under RLIMIT_FSIZE, as on a disk that fills up."""
    small = make_image(tmp_path / "small.png", size=(32, 32), fmt="PNG")
    big = make_image(tmp_path / "big.png", size=(400, 400), fmt="PNG", seed=1)  # ~480 KB of noise
    data_dir = tmp_path / "data"
    run = subprocess.run([sys.executable, "-c", _UNDER_A_FILE_SIZE_LIMIT, str(data_dir), str(small), str(big)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["small"]["status"] == "ingested"
    assert out["big"]["status"] == "failed"
    assert "Could not save the media file" in out["big"]["reason"] and "could not be read" not in out["big"]["reason"]
    for name in ("put_many", "create", "stage"):
        assert out[name].startswith("WriteFailed: Could not save"), out[name]
        assert "cannot rollback" not in out[name] and str(data_dir) not in out[name]
    assert "Traceback" not in run.stdout
    # Nothing half-written: no partial media or staged file, and the database is whole and holds what it held.
    assert not [p for p in (data_dir / "media").rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert not list((data_dir / "staging").glob("*"))
    records = SQLiteRecordStore(data_dir / "loupe.sqlite3")
    try:
        assert records._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        catalog = Catalog(records, LocalBlobStore(data_dir / "media"), Config(data_dir=data_dir))
        assert catalog.get(out["small"]["media_id"]).file_name == "small.png"
        assert not [r for r in records.query("note") if r.key.startswith("n")]  # the failed put_many: none of it
        assert catalog.ingest_file(big).status == "ingested"  # room again: the same file goes in
    finally:
        records.close()
