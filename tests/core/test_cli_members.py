"""`python -m core members add|list|remove` and `audit --json`: the command line is the local admin, even where the
app requires sign-in, and bootstraps the first admin."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], data: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "LOUPE_DATA_DIR": str(data), "LOUPE_AUTH": "oidc", **env}, timeout=120)


def test_members_are_added_listed_removed_and_audited_from_the_command_line(tmp_path):
    data = tmp_path / "data"
    assert _run(["members", "add", "Ann@X.org", "--role", "admin"], data).returncode == 0
    added = _run(["members", "add", "rita@x.org", "--group", "night", "--group", "day"], data)
    assert added.returncode == 0 and added.stdout == "rita@x.org: reviewer in night, day\n"
    listed = [json.loads(line) for line in _run(["members", "list", "--json"], data, LOUPE_ADMINS="zed@x.org")
              .stdout.splitlines()]
    assert [(m["email"], m["role"], m["groups"], m["from_loupe_admins"]) for m in listed] == [
        ("ann@x.org", "admin", [], False), ("rita@x.org", "reviewer", ["night", "day"], False),
        ("zed@x.org", "admin", [], True)]
    assert _run(["members", "remove", "rita@x.org"], data).returncode == 0

    refused = _run(["members", "remove", "ann@x.org"], data)
    assert refused.returncode == 2 and "they are the last admin" in refused.stderr
    bad = _run(["members", "add", "not-an-email", "--role", "admin"], data)
    assert bad.returncode == 2 and "is not an email address" in bad.stderr

    audit = [json.loads(line) for line in _run(["audit", "--json"], data).stdout.splitlines()]
    assert [(e["who"], e["action"], e["target"], e["before_version"], e["after_version"]) for e in audit] == [
        ("local", "member", "ann@x.org", None, 1), ("local", "member", "rita@x.org", None, 1),
        ("local", "member", "rita@x.org", 1, None)]
    assert all(e["at"].endswith("Z") for e in audit)
