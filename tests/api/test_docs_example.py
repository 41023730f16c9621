"""The runnable example in docs/aws-api.md ("Point your A2I code at Loupe"), run as written against a running API."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.review_seed import DEMO

ROOT = Path(__file__).resolve().parents[2]


def docs_example() -> str:
    text = (ROOT / "docs" / "aws-api.md").read_text()
    block = re.search(r"<!-- docs-example:start -->\s*```python\n(.*?)```\s*<!-- docs-example:end -->", text, re.S)
    assert block, "docs/aws-api.md lost its runnable A2I example"
    return block.group(1)


def test_the_docs_example_runs_against_the_api_and_its_loop_is_on_the_moderation_page(api, tmp_path):
    (tmp_path / "demo").mkdir()
    shutil.copy(DEMO / "coffee.jpg", tmp_path / "demo" / "coffee.jpg")
    (tmp_path / "loupe-key.json").write_text(json.dumps({"access_key_id": api.admin.access_key_id,
                                                         "secret_access_key": api.admin.secret_access_key}))
    out = subprocess.run([sys.executable, "-c", docs_example()], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "LOUPE_API_URL": api.url}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "human-loop/order-1234" in out.stdout and "InProgress" in out.stdout and "['order-1234']" in out.stdout
    task = api.service.review.next_task("ana", task_type="moderation")
    assert task is not None and task.loop.loop_id == "order-1234"
