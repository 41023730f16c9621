"""/stored-media/<media_id> on the server `make run` starts: a stored item's bytes, streamed with HTTP Range
support, only for the id of a stored item (never a path), and only to allowed host names."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Config
from core.service import Service
from tests.browser.conftest import free_port
from tests.media_factory import make_wav

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str, bytes]]:
    """(base URL, media id, bytes) of a server over a data folder holding one WAV."""
    tmp = tmp_path_factory.mktemp("media-route")
    data_dir = tmp / "data"
    service = Service(Config(data_dir=data_dir), start_jobs=False)
    wav = make_wav(tmp / "tone.wav", seconds=2.0)
    media_id = service.catalog.ingest_file(wav).media_id
    service.close()
    port = free_port()
    env = {**os.environ, "LOUPE_DATA_DIR": str(data_dir), "OMP_WAIT_POLICY": "PASSIVE"}
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
                             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.3)
        yield url, media_id, wav.read_bytes()
    finally:
        proc.terminate()
        proc.wait(10)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_a_stored_item_is_served_whole_with_its_type(served):
    url, media_id, data = served
    status, headers, body = _get(f"{url}/stored-media/{media_id}")
    assert status == 200 and body == data
    assert headers["content-type"] == "audio/wav" and headers["accept-ranges"] == "bytes"


def test_a_range_is_served_as_partial_content(served):
    url, media_id, data = served
    status, headers, body = _get(f"{url}/stored-media/{media_id}", {"Range": "bytes=1000-1999"})
    assert status == 206 and body == data[1000:2000]
    assert headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    status, _, body = _get(f"{url}/stored-media/{media_id}", {"Range": "bytes=-100"})
    assert status == 206 and body == data[-100:]


@pytest.mark.parametrize("name", ["0" * 64, "..%2F..%2Floupe.sqlite3", "loupe.sqlite3", "%2Fetc%2Fpasswd",
                                  "AB" * 32])
def test_anything_but_a_stored_media_id_is_not_found(served, name):
    url, _, _ = served
    status, _, body = _get(f"{url}/stored-media/{name}")
    assert status in (400, 404) and b"sqlite" not in body.lower() and b"root:" not in body


def test_media_is_refused_to_a_foreign_host_name(served):
    url, media_id, _ = served
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET /stored-media/{media_id} HTTP/1.1\r\nHost: evil.example:{port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        assert " 403 " in conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]
