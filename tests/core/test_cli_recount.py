"""`python -m core recount` as a user runs it after a crash, on the local store and on DynamoDB (dynalite): it puts
every count right from the records (media, review queue, Results totals), lists a label name a crash left out, and
says in words what was off."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.aws import AwsConfig, make_client
from core.config import Config
from core.domain import HumanLoop, Label, Prediction, Workflow
from core.label_names import KIND as LABEL_NAME_KIND
from core.result_totals import totals_name
from core.service import Service
from core.stores.aws_setup import ensure_table
from core.task_types.moderation import moderation_content
from tests.dynamodb_servers import aws_env, endpoint_for
from tests.media_factory import make_image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["local", "dynalite"])
def store_env(request, tmp_path, monkeypatch) -> dict[str, str]:
    env = {"LOUPE_STORE": "local", "LOUPE_DATA_DIR": str(tmp_path / "data")}
    if request.param == "dynalite":
        url = endpoint_for("dynalite")
        table = f"recount-{uuid.uuid4().hex[:8]}"
        ensure_table(make_client("dynamodb", AwsConfig(endpoint_url=url, region="us-east-1",
                                                       access_key_id="testing", secret_access_key="testing")), table)
        env.update({**aws_env(url), "LOUPE_STORE": "dynamodb", "LOUPE_DYNAMODB_TABLE": table})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _recount(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "recount", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)


def test_recount_puts_counts_a_crash_left_wrong_right_and_says_what_was_off(store_env, tmp_path):
    svc = Service(Config.from_env(), start_jobs=False, local_admin=True)
    media_ids = [svc.catalog.ingest_file(make_image(tmp_path / f"{i}.png", fmt="PNG", seed=i)).media_id
                 for i in range(2)]
    svc.predictions.save_many(Prediction(m, "m-1", (Label("Cat", 0.9), Label("Dog", 0.4))) for m in media_ids)
    svc.workflows.save(Workflow(name="flow", task_type="moderation", task_count=1))
    for m in media_ids:
        svc.loops.create(HumanLoop(f"loop-{m[:8]}", m, "flow"))
    svc.review.submit(svc.review.next_task("ana"), moderation_content([]))
    svc.results.totals.read("*")  # the Results page was opened: its totals are counted
    results = _counts(svc, totals_name("*"))
    right = (_counts(svc, "media"), _counts(svc, "loops"), results)
    # what crashes between a write and its count leave behind
    svc.records.add_counts("media", {"image.new": 3})
    svc.records.add_counts("loops", {"flow|InProgress": 1, "flow|Completed": -1})
    svc.records.delete(LABEL_NAME_KIND, "Dog")
    field, value = min(results.items())
    svc.records.add_counts(totals_name("*"), {field: 2})
    svc.close()

    done = _recount(store_env)
    assert done.returncode == 0, done.stderr
    new = right[0]["image.new"]
    assert (f"media counts: 1 of {len(right[0])} count(s) were off and are right now: image.new was {new + 3}, "
            f"is {new}") in done.stdout
    assert (f"review queue counts: 2 of {len(right[1])} count(s) were off" in done.stdout
            and "flow|Completed was 0, is 1" in done.stdout and "flow|InProgress was 2, is 1" in done.stdout)
    assert ("Results totals: 1 of " in done.stdout and f"{totals_name('*')} {field} was {value + 2}, is {value}"
            in done.stdout)
    assert "1 were missing from the list and are listed now" in done.stdout

    again = _recount(store_env, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["is_changed"] is False and report["label_names"]["names"] == 2
    assert all(not c["changed"] for c in report["counters"].values())

    svc = Service(Config.from_env(), start_jobs=False, local_admin=True)
    try:
        assert (_counts(svc, "media"), _counts(svc, "loops"), _counts(svc, totals_name("*"))) == right
        assert svc.label_names.names() == ["Cat", "Dog"]
    finally:
        svc.close()


def _counts(svc: Service, counter: str) -> dict[str, int]:
    """The counter's counts (its "counted once" mark left out)."""
    return {k: v for k, v in svc.records.counts(counter).items() if v and not k.startswith("_")}


def test_recount_on_an_empty_store_says_everything_was_right(store_env):
    done = _recount(store_env)
    assert done.returncode == 0, done.stderr
    assert "Everything was right already." in done.stdout
