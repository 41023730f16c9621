"""The local Dask cluster that `make run` (LOUPE_DASK=local) and the command line start, as real processes: its
workers never import the starting process's main module, a cluster that can't start is said in words, and the
command line's `label` and `transcribe` run on a cluster whenever one is configured."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.config import Config
from core.service import Service
from tests.dask_cluster import ROOT, shared_scheduler, wait_for
from tests.media_factory import make_image
from tests.speech import make_speech_wav

pytestmark = [pytest.mark.timeout(300), pytest.mark.cluster]


def _cli(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOUPE_")}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, env={**clean, "LOUPE_DATA_DIR": str(data_dir), "OMP_WAIT_POLICY": "PASSIVE",
                                            **env})


def _ingest(data_dir: Path, folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [make_image(folder / f"img-{n}.png", size=(96, 72), seed=n) for n in range(count)]
    with Service(Config(data_dir=data_dir), start_jobs=False) as service:
        return [service.catalog.ingest_file(p).media_id for p in paths]


def _label_jobs(data_dir: Path):
    with Service(Config(data_dir=data_dir), start_jobs=False) as service:
        return service.jobs.recent(kind="label")


def test_a_local_cluster_started_from_a_script_never_runs_that_script_in_its_workers(tmp_path):
    """What `streamlit run` does: the main module is a script with effects. Dask spawns workers with the starting
    process's main module, so a LocalCluster inside this process made every worker run the script again."""
    marker = tmp_path / "script-ran"
    script = tmp_path / "app_script.py"
    script.write_text(textwrap.dedent(f"""
        import pathlib, sys
        with open({str(marker)!r}, "a") as f:
            f.write("ran\\n")
        sys.path.insert(0, {str(ROOT)!r})
        from core.config import Config
        from core.service import Service
        from tests.media_factory import make_image

        with Service(Config(data_dir=pathlib.Path({str(tmp_path / "data")!r}), dask="local", dask_workers=1),
                     start_jobs=False) as service:
            media_id = service.catalog.ingest_file(make_image(pathlib.Path({str(tmp_path / "a.png")!r}))).media_id
            job = service.jobs.wait(service.labeling.submit([media_id]).job_id, 240)
            print(job.status, job.error, job.result.get("chunks", {{}}).get("where"))
    """))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=280,
                         env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    assert out.returncode == 0, out.stderr[-3000:]
    status, _, where = out.stdout.strip().partition(" ")
    assert status == "succeeded", out.stdout + out.stderr[-3000:]
    assert "tcp://127.0.0.1:" in where  # on the local cluster's worker, not in the script's process
    assert marker.read_text() == "ran\n"  # once: no worker process ran the script


def test_a_local_cluster_that_cannot_start_fails_the_job_in_words_and_settings_say_why(tmp_path):
    config = Config(data_dir=tmp_path / "data", dask="local", dask_workers=1, dask_memory_limit="plenty")
    with Service(config, start_jobs=False) as service:
        media_id = service.catalog.ingest_file(make_image(tmp_path / "a.png")).media_id
        job = service.jobs.wait(service.labeling.submit([media_id]).job_id, 240)
        assert job.status == "failed"
        assert "The local cluster of worker processes could not start" in job.error
        assert "LOUPE_DASK=off" in job.error and "Traceback" not in job.error
        health = wait_for(lambda: [h for h in [service.cluster.health()] if "could not start" in h.message],
                          "Settings to say the cluster could not start", timeout_s=30)[0]
        assert not health.ok and health.message.startswith("Model work can't run: ")


def test_the_local_cluster_ends_with_the_process_that_started_it_even_when_killed(tmp_path):
    script = tmp_path / "starter.py"
    script.write_text(textwrap.dedent(f"""
        import pathlib, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from core.cluster import LocalClusterProcess
        from core.config import Config

        cluster = LocalClusterProcess(Config(data_dir=pathlib.Path({str(tmp_path)!r}), dask_workers=1))
        print(cluster.process.pid, flush=True)
        time.sleep(600)
    """))
    starter = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        cluster_pid = int(starter.stdout.readline())
        starter.kill()  # no cleanup runs in a killed process: the cluster sees its stdin close
        starter.wait()
        wait_for(lambda: not _alive(cluster_pid), "the cluster process to end", timeout_s=60, every_s=0.2)
    finally:
        if starter.poll() is None:
            starter.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie (ended, not yet reaped by init) is not running
        return stat.read().split()[2] != "Z"


def test_the_command_line_labels_on_the_scheduler_it_is_given(tmp_path):
    ids = _ingest(tmp_path / "data", tmp_path / "in", 3)
    out = _cli(["label", "--all", "--json"], tmp_path / "data", LOUPE_DASK_SCHEDULER=shared_scheduler())
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert sorted(line["media_id"] for line in lines) == sorted(ids)
    assert all(line["labels"] and line["file"].startswith("img-") for line in lines), lines
    (job,) = _label_jobs(tmp_path / "data")
    assert job.status == "succeeded" and job.created_by == "cli"
    from distributed import Client

    with Client(shared_scheduler(), timeout="30s", set_as_default=False) as client:
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
    assert job.result["chunks"]["where"] and set(job.result["chunks"]["where"]) <= workers  # that scheduler's workers


def test_the_command_line_starts_a_local_cluster_with_loupe_dask_local_and_it_ends_with_the_command(tmp_path):
    _ingest(tmp_path / "data", tmp_path / "in", 2)
    clip = make_speech_wav(tmp_path / "clip.wav", "The quick brown fox jumps over the lazy dog.")
    with Service(Config(data_dir=tmp_path / "data"), start_jobs=False) as service:
        clip_id = service.catalog.ingest_file(clip).media_id
    out = _cli(["label"], tmp_path / "data", LOUPE_DASK="local", LOUPE_DASK_WORKERS="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("labeled  img-") == 2, out.stdout
    (job,) = _label_jobs(tmp_path / "data")
    assert all(w.startswith("tcp://127.0.0.1:") for w in job.result["chunks"]["where"])
    out = _cli(["transcribe", clip_id, "--json"], tmp_path / "data", LOUPE_DASK="local", LOUPE_DASK_WORKERS="1")
    assert out.returncode == 0, out.stderr
    assert "fox" in json.loads(out.stdout)["text"].lower()


def test_settings_say_the_local_cluster_is_starting_and_then_how_many_workers_it_has(tmp_path):
    from core.cluster import DaskCluster

    cluster = DaskCluster(Config(data_dir=tmp_path, dask="local", dask_workers=1))
    try:
        cluster.start()
        first = cluster.health()
        assert first.ok or (first.is_starting and first.message.startswith("Starting a local cluster")), first
        up = wait_for(lambda: [h for h in [cluster.health()] if h.ok], "the cluster to be up", timeout_s=150)[0]
        assert (up.workers, up.message, up.is_starting) == (1, "1 worker(s) on a local cluster.", False)
    finally:
        cluster.close()
