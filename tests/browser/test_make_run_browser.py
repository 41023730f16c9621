"""The README's first command as a new user runs it: `make run` on its own defaults, then Home → Load demo data.

Nothing here is set up for the test but a temporary data folder and free ports: the same Makefile target, the same
`LOUPE_DASK=local` (a local cluster of worker processes that the app starts), the same models. The demo job must end
done, with labeled images, a transcript and queued tasks; one task is then submitted in the browser. On the main of
2026-12-07 the demo failed here ("Nanny failed to start": each worker process re-ran the page script).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, RunningApp, free_port, sign_in, wait_for_app, write_auth_secrets

ADMIN = "admin@example.test"

pytestmark = [pytest.mark.browser, pytest.mark.cluster]

START_S = 180  # `make run` checks its venv, then starts the API, the UI and the local cluster
DEMO_S = 420  # ingest, label and transcribe the demo on the local cluster, on a busy 2-core CI machine


@dataclass
class MadeRun(RunningApp):
    api_url: str = ""


def user_env(data_dir: Path) -> dict[str, str]:
    """This shell's environment as a new user's would be: no LOUPE_* setting but the data folder, and no make
    variables from the `make test` that runs this test."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOUPE_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "UI_PORT", "API_PORT")}
    return {**env, "LOUPE_DATA_DIR": str(data_dir)}


def wait_until_up(run: MadeRun, url: str) -> None:
    deadline = time.monotonic() + START_S
    while True:
        assert run.process.poll() is None, f"`make run` exited with {run.process.returncode}:\n{run.log()}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            assert time.monotonic() < deadline, f"`make run` did not answer at {url} within {START_S} s:\n{run.log()}"
            time.sleep(0.5)


def stop(run: MadeRun) -> None:
    """Ctrl-C, as in the terminal: the whole process group gets SIGINT, and every process of it must end."""
    if not group_members(run.process.pid):
        return
    os.killpg(run.process.pid, signal.SIGINT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.process.poll()  # reaps `make` itself once it exits
        if not group_members(run.process.pid):
            return
        time.sleep(0.5)
    left = group_members(run.process.pid)
    os.killpg(run.process.pid, signal.SIGKILL)
    raise AssertionError(f"processes of `make run` still ran 60 s after Ctrl-C: {left}\n{run.log()}")


def group_members(pgid: int) -> list[str]:
    """The command lines of the live processes (not zombies) in a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while being read
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(cmdline.strip())
    return members


@contextlib.contextmanager
def make_run(tmp_path: Path, extra_env: dict[str, str] | None = None, ui_port: int = 0) -> Iterator[MadeRun]:
    """`make run UI_PORT=... API_PORT=...` in its own process group, as a user starts it, until the block ends."""
    ui_port, api_port = ui_port or free_port(), free_port()
    log_path = tmp_path / "make-run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(["make", "run", f"UI_PORT={ui_port}", f"API_PORT={api_port}"], cwd=ROOT,
                                   env={**user_env(tmp_path / "data"), **(extra_env or {})}, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    run = MadeRun(f"http://127.0.0.1:{ui_port}", tmp_path / "data", process, log_path, f"http://127.0.0.1:{api_port}")
    try:
        wait_until_up(run, run.url + "/_stcore/health")
        wait_until_up(run, run.api_url + "/")
        yield run
    finally:
        stop(run)


@pytest.fixture
def made_run(tmp_path) -> Iterator[MadeRun]:
    with make_run(tmp_path) as run:
        yield run


@pytest.fixture
def made_run_with_sign_in(tmp_path, oidc_issuer) -> Iterator[MadeRun]:
    """`make run` with LOUPE_AUTH=oidc against a real OpenID provider, the admin named by LOUPE_ADMINS, and the
    [auth] section in a secrets file of the user's (STREAMLIT_SECRETS_FILES), as a team deploys it."""
    ui_port = free_port()
    secrets = write_auth_secrets(tmp_path / "secrets.toml", ui_port, oidc_issuer)
    env = {"LOUPE_AUTH": "oidc", "LOUPE_ADMINS": ADMIN, "STREAMLIT_SECRETS_FILES": str(secrets)}
    with make_run(tmp_path, env, ui_port) as run:
        yield run


def test_make_run_then_load_demo_data_labels_transcribes_and_queues_and_a_task_can_be_submitted(
        made_run, page, artifacts_dir):
    page.goto(made_run.url)
    wait_for_app(page)
    page.get_by_placeholder("your name").fill("ann")
    page.keyboard.press("Enter")
    wait_for_app(page)
    load_the_demo_and_submit_one_task(made_run, page, artifacts_dir, "make-run")
    check_the_store(made_run, "ann")


def test_make_run_signed_in_the_admin_loads_the_demo_and_submits_one_task(made_run_with_sign_in, page,
                                                                           artifacts_dir):
    run = made_run_with_sign_in
    sign_in(page, run.url, ADMIN)
    load_the_demo_and_submit_one_task(run, page, artifacts_dir, "make-run-oidc")
    check_the_store(run, ADMIN)


def load_the_demo_and_submit_one_task(made_run: MadeRun, page, artifacts_dir: Path, name: str) -> None:
    """Home → Load demo data; the job ends done; Settings shows the local cluster; one Label review task submitted."""
    page.get_by_role("button", name="Load demo data").click()
    done = page.get_by_text("demo · succeeded").or_(page.get_by_text("demo · failed")).or_(
        page.get_by_test_id("stException"))  # a traceback on the page ends the wait at once
    done.first.wait_for(timeout=DEMO_S * 1000)
    page.screenshot(path=str(artifacts_dir / f"{name}-demo-home.png"), full_page=True)
    assert page.get_by_text("demo · succeeded").count() == 1, (page.inner_text("body"), made_run.log())

    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Settings").click()
    wait_for_app(page)
    page.get_by_text("worker(s) on a local cluster").wait_for(timeout=60_000)

    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Label review").click()
    wait_for_app(page)
    page.get_by_text("Model labels").wait_for(timeout=60_000)
    page.locator("canvas.upper-canvas").first.wait_for()  # the canvas reports once drawn, which reruns the page
    wait_for_app(page)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Answer recorded").wait_for()
    page.screenshot(path=str(artifacts_dir / f"{name}-demo-submitted.png"), full_page=True)


def check_the_store(made_run: MadeRun, reviewer: str) -> None:
    """What the demo and the one answer left in the store, read once `make run` has stopped."""
    stop(made_run)  # the store is read as it was left, with no app writing to it
    from core.config import Config
    from core.service import Service

    with Service(Config(data_dir=made_run.data_dir), start_jobs=False) as service:
        demo = service.jobs.recent(kind="demo")[0]
        assert demo.status == "succeeded", demo
        images = [m.media_id for m in service.catalog.list(kind="image")]
        assert images and set(images) <= service.predictions.labeled_ids()
        assert service.transcripts.transcribed_ids(), "the demo's speech has no transcript"
        where = demo.result.get("chunks", {}).get("where", [])
        assert where and all(w.startswith("tcp://127.0.0.1:") for w in where), where  # on the local workers
        assert service.loops.count() >= 2
        assert [a for a in service.answers.all() if reviewer in a.worker_id], "the submitted task left no answer"
