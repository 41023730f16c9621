"""`python -m core ingest` and `status` as a user runs them, in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.media_factory import make_image

ROOT = Path(__file__).resolve().parents[2]


def _run(args, data_dir):
    env = {**os.environ, "LOUPE_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_ingest_json_reports_each_file_and_exits_non_zero_after_ingesting_the_rest(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    make_image(folder / "a.png", fmt="PNG")
    make_image(folder / "sub" / "b.jpg", fmt="JPEG", seed=2)
    (folder / "sub" / "fake.mp4").write_text("not a video")
    out = _run(["ingest", str(folder), "--json"], tmp_path / "data")
    assert out.returncode == 1, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert {line["file"]: line["status"] for line in lines} == {"a.png": "ingested", "b.jpg": "ingested",
                                                                "fake.mp4": "rejected"}
    assert all(set(line) == {"file", "status", "media_id", "reason"} for line in lines)
    again = _run(["ingest", str(folder / "a.png"), "--json"], tmp_path / "data")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "duplicate"
    status = _run(["status", "--json"], tmp_path / "data")
    counts = json.loads(status.stdout)
    assert counts["total"] == 2 and counts["by_kind"]["image"] == 2 and counts["by_status"]["new"] == 2


def test_a_bad_store_setting_is_a_clear_error(tmp_path):
    env = {**os.environ, "LOUPE_DATA_DIR": str(tmp_path), "LOUPE_STORE": "postgres"}
    out = subprocess.run([sys.executable, "-m", "core", "status"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 2
    assert ("LOUPE_STORE='postgres' (from the environment) cannot be used: it must be one of local, dynamodb"
            in out.stderr)
