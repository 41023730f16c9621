"""Dask clusters for tests, as real processes on loopback: `dask scheduler` and `dask worker` (each under its nanny).

The one `scripts/with-test-servers.sh` started (LOUPE_TEST_DASK_SCHEDULER), else one started here for the test run;
tests that kill or starve workers start their own with `start_cluster`.
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.dynamodb_servers import _free_port, aws_env, moto_endpoint

ROOT = Path(__file__).resolve().parent.parent
DASK = ROOT / ".venv" / "bin" / "dask"
_shared: dict[str, str] = {}


@dataclass
class TestCluster:
    address: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def client(self):
        from distributed import Client

        return Client(self.address, timeout="30s", set_as_default=False)

    def kill(self) -> None:
        """Kill the scheduler and every worker at once, as a machine that loses power."""
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def start_cluster(workers: int = 2, *, memory_limit: str = "2GiB", preload: str = "", port: int = 0) -> TestCluster:
    """A scheduler and `workers` single-threaded workers on moto's endpoint; returns once every worker is up."""
    port = port or _free_port()
    workdir = tempfile.mkdtemp(prefix="loupe-dask-")
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0", "PYTHONPATH": str(ROOT),
           "OMP_WAIT_POLICY": "PASSIVE", "LOUPE_MODEL_THREADS": "1", "LOUPE_DATA_DIR": f"{workdir}/data",
           **aws_env(moto_endpoint() or "")}
    address = f"tcp://127.0.0.1:{port}"
    cluster = TestCluster(address)
    log = open(Path(workdir) / "dask.log", "wb")
    cluster.procs.append(subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard", "--no-show"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT))
    for n in range(workers):
        argv = [str(DASK), "worker", address, "--name", f"w{n}", "--nthreads", "1", "--memory-limit", memory_limit,
                "--host", "127.0.0.1", "--no-dashboard", "--local-directory", f"{workdir}/w{n}"]
        if preload:
            argv += ["--preload", preload]
        cluster.procs.append(subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT))
    try:
        with cluster.client() as client:
            client.wait_for_workers(workers, timeout=90)
    except Exception:
        cluster.stop()
        raise
    return cluster


def shared_scheduler() -> str:
    """The address of the run's shared two-worker cluster."""
    address = os.environ.get("LOUPE_TEST_DASK_SCHEDULER") or _shared.get("address")
    if not address:
        cluster = start_cluster(2)
        atexit.register(cluster.stop)
        address = _shared["address"] = cluster.address
    return address


def worker_pids(client) -> dict[str, int]:
    """worker address -> the pid of its worker process (the nanny's child)."""
    return client.run(os.getpid)


def wait_for(check, what: str, timeout_s: float = 120.0, every_s: float = 0.1):
    """Poll recorded state until check() gives something true; fail with `what` when it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what}")


PYTHON = sys.executable
