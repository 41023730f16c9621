"""The local Dask cluster as a process of its own: `python -m core.local_cluster`, started by core/cluster.py.

A LocalCluster started inside the app would spawn its worker processes with the app's main module, and under
`streamlit run` that is the page script being run: each worker re-ran streamlit_app.py, died, and was started again
("Nanny failed to start"). Here the scheduler and the nannies live in a process whose main module is this small one,
so a worker process (spawned, as Dask does) imports nothing but Loupe's core when it unpickles a task.

The process prints one JSON line on stdout, {"scheduler": "tcp://127.0.0.1:PORT", "dashboard": URL, "workers": N},
or {"error": "..."} if the cluster can't start, and then serves until its stdin closes: the process that started it
holds the other end, so the cluster goes when that process ends, however it ends (even killed).
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys

from core.cluster import SCHEDULER_SETTINGS

log = logging.getLogger("core.local_cluster")


def serve(workers: int, threads: int, memory_limit: str, dashboard: str | None) -> int:
    import dask
    from distributed import LocalCluster

    env = {"OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE", "LOUPE_MODEL_THREADS": str(threads)}
    try:
        with dask.config.set({**SCHEDULER_SETTINGS, "distributed.nanny.pre-spawn-environ": env}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   scheduler_port=0, memory_limit=memory_limit, dashboard_address=dashboard,
                                   env=env)
    except Exception as exc:  # said on stdout in words; the starting process puts them in the job and on Settings
        log.exception("the local Dask cluster could not start")
        _say({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    try:
        _say({"scheduler": cluster.scheduler_address, "dashboard": cluster.dashboard_link if dashboard else "",
              "workers": workers})
        sys.stdin.read()  # returns when the starting process closes its end, or ends
    except KeyboardInterrupt:  # Ctrl-C in the terminal of `make run` reaches the whole process group
        pass
    finally:
        cluster.close(timeout=20)
    return 0


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.local_cluster",
                                     description="A local Dask cluster for Loupe's model work, until stdin closes.")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True, help="model threads per worker")
    parser.add_argument("--memory-limit", default="auto")
    parser.add_argument("--dashboard", default="", help="host:port of Dask's dashboard; empty: none")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped like the app: the cluster closes its workers
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    return serve(args.workers, args.threads, args.memory_limit, args.dashboard or None)


if __name__ == "__main__":
    sys.exit(main())
