"""Local DynamoDB servers for tests: the ones `make test` started (endpoint env vars), else started here once.

moto_server ships with the dev requirements; dynalite comes from `make setup-test` (.cache/dynalite). A
server started here lives until the test process exits.
"""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_started: dict[str, str] = {}
_lock = threading.Lock()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early with code {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{name} did not start within 30 s")


def _start(name: str, argv_for_port, probe_path: str) -> str:
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix=f"loupe-{name}-")
    proc = subprocess.Popen(argv_for_port(port, workdir), cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url + probe_path, proc, name)
    return url


def moto_endpoint() -> str | None:
    """The moto_server endpoint (DynamoDB and S3), starting one if the run has none."""
    with _lock:
        url = os.environ.get("LOUPE_TEST_MOTO_ENDPOINT") or _started.get("moto")
        if url:
            return url
        exe = ROOT / ".venv" / "bin" / "moto_server"
        if not exe.exists():
            return None
        serial = ROOT / "scripts" / "moto_server_serial.py"  # one request at a time: see its docstring
        _started["moto"] = _start(
            "moto", lambda port, _: [sys.executable, str(serial), "-H", "127.0.0.1", "-p", str(port)], "/moto-api/")
        return _started["moto"]


def dynalite_endpoint() -> str | None:
    """The dynalite endpoint, starting one if the run has none and it is installed."""
    with _lock:
        url = os.environ.get("LOUPE_TEST_DYNALITE_ENDPOINT") or _started.get("dynalite")
        if url:
            return url
        exe = ROOT / ".cache" / "dynalite" / "node_modules" / ".bin" / "dynalite"
        node = shutil.which("node")
        if not exe.exists() or not node:
            return None
        _started["dynalite"] = _start("dynalite", lambda port, work: [
            node, str(exe), "--host", "127.0.0.1", "--port", str(port), "--path", work, "--createTableMs", "0"], "/")
        return _started["dynalite"]


def endpoint_for(backend: str) -> str:
    url = moto_endpoint() if backend == "moto" else dynalite_endpoint()
    if not url:
        pytest.fail(f"No {backend} server available: run `make setup-test` (it installs moto_server and dynalite).")
    return url


def aws_env(endpoint: str) -> dict[str, str]:
    """Environment for an app process on a local server: boto3's own variables, dummy credentials."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}


def team_config(data_dir: Path):
    """A Config on a fresh DynamoDB table and S3 bucket on moto_server (for LOUPE_TEST_STORE=dynamodb runs)."""
    import uuid

    from core.aws import make_client
    from core.config import Config
    from core.stores.aws_setup import ensure_bucket, ensure_table

    endpoint = moto_endpoint()
    if not endpoint:
        pytest.fail("LOUPE_TEST_STORE=dynamodb needs moto_server: run `make setup-test`.")
    os.environ.update(aws_env(endpoint))  # boto3 reads these; the whole run targets the local server
    name = f"suite-{uuid.uuid4().hex[:10]}"
    ensure_table(make_client("dynamodb"), name)
    ensure_bucket(make_client("s3"), name)
    return Config(data_dir=data_dir, store="dynamodb", dynamodb_table=name, s3_bucket=name)
