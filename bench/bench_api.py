"""Benchmark the AWS-compatible API with real boto3 clients against `python -m core serve-api` (its own process).

1. StartHumanLoop and DescribeHumanLoop from 8 concurrent boto3 clients (one client per thread, as boto3 advises):
   requests per second, p50 and p99 latency. Baselines in the same run: the same core calls made in-process from
   8 threads (what HTTP, SigV4 and the AWS wire format add), and unsigned requests the server refuses at once
   (the HTTP floor of uvicorn on this machine).
2. DetectModerationLabels over the API against calling the labeler in-process (`Labeler.predict`) on the same
   images, one at a time: the overhead ratio (target <= 1.2x). The API also ingests, stores the prediction and
   checks the signature; images are sent once as new and once again as duplicates.

Run: .venv/bin/python bench/bench_api.py [--loops 400] [--describes 800] [--images 24]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.config import Config as BotoConfig  # noqa: E402

from core.config import Config  # noqa: E402
from core.labelers import ImageRef, create  # noqa: E402
from core.service import Service  # noqa: E402
from tests.api.conftest import free_port  # noqa: E402
from tests.media_factory import make_image  # noqa: E402

DEMO = ROOT / "demo"
THREADS = 8
FLOW_REQUEST = {
    "FlowDefinitionName": "bench-flow", "RoleArn": "arn:aws:iam::111122223333:role/bench",
    "OutputConfig": {"S3OutputPath": "s3://bench-output/a2i/"},
    "HumanLoopConfig": {"WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/bench",
                        "HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:111122223333:human-task-ui/bench",
                        "TaskTitle": "Bench", "TaskDescription": "Bench", "TaskCount": 1},
}
FLOW_ARN = "arn:aws:sagemaker:us-east-1:000000000000:flow-definition/bench-flow"
INPUT = json.dumps({"taskObject": "s3://local/cat.jpg"})


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def concurrent(calls: list, threads: int = THREADS) -> tuple[float, list[float]]:
    """Run the calls on `threads` threads; (requests per second, latencies in ms)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(call) -> None:
        started = time.perf_counter()
        call()
        with lock:
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, calls))
    return len(calls) / (time.perf_counter() - started), latencies


def report(what: str, rate: float, latencies: list[float]) -> None:
    print(f"  {what:<52} {rate:8.1f} req/s   p50 {pct(latencies, 50):6.1f} ms   p99 {pct(latencies, 99):6.1f} ms")


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "LOUPE_DATA_DIR": str(data_dir), "LOUPE_STORE": "local"}
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve-api", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("serve-api did not start")


def clients(url: str, key, service: str, n: int = THREADS) -> list:
    return [boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key.access_key_id,
                         aws_secret_access_key=key.secret_access_key,
                         config=BotoConfig(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=4))
            for _ in range(n)]


def per_thread(pool: list):
    """The calling thread's own client (boto3 clients are thread-safe, but one each is what boto3 advises)."""
    local = threading.local()
    counter = iter(range(10**9))
    lock = threading.Lock()

    def get():
        if not hasattr(local, "client"):
            with lock:
                local.client = pool[next(counter) % len(pool)]
        return local.client

    return get


def bench_loops(data_dir: Path, url: str, key, n_loops: int, n_describes: int) -> None:
    print(f"StartHumanLoop / DescribeHumanLoop, {THREADS} concurrent boto3 clients (server: serve-api, local store)")
    a2i = per_thread(clients(url, key, "sagemaker-a2i-runtime"))
    rate, lat = concurrent([lambda i=i: a2i().start_human_loop(HumanLoopName=f"api-{i:06d}", FlowDefinitionArn=FLOW_ARN,
                                                                  HumanLoopInput={"InputContent": INPUT})
                            for i in range(n_loops)])
    report(f"StartHumanLoop over the API ({n_loops})", rate, lat)
    rate, lat = concurrent([lambda i=i: a2i().describe_human_loop(HumanLoopName=f"api-{i % n_loops:06d}")
                            for i in range(n_describes)])
    report(f"DescribeHumanLoop over the API ({n_describes})", rate, lat)

    def unsigned() -> None:
        try:
            urllib.request.urlopen(urllib.request.Request(url + "/human-loops/api-000000"), timeout=5)
        except urllib.error.HTTPError:
            pass

    rate, lat = concurrent([unsigned for _ in range(n_describes)])
    report("baseline: unsigned request refused (HTTP floor)", rate, lat)


def bench_loops_in_process(data_dir: Path, n_loops: int, n_describes: int) -> None:
    svc = Service(Config(data_dir=data_dir), start_jobs=False)
    try:
        rate, lat = concurrent([lambda i=i: svc.a2i.start("bench-flow", f"core-{i:06d}", INPUT, created_by="bench")
                                for i in range(n_loops)])
        report(f"baseline: core a2i.start in-process ({n_loops})", rate, lat)
        rate, lat = concurrent([lambda i=i: svc.a2i.describe(f"core-{i % n_loops:06d}") for i in range(n_describes)])
        report(f"baseline: core a2i.describe in-process ({n_describes})", rate, lat)
    finally:
        svc.close()


def bench_detect(url: str, key, pictures: list[bytes], tmp: Path) -> None:
    print(f"DetectModerationLabels, {len(pictures)} images one at a time (median of per-image seconds)")
    labeler = create("local", Config(data_dir=tmp / "baseline"))
    labeler.predict([ImageRef("warm", data=(DEMO / "astronaut.jpg").read_bytes())])
    rekognition = clients(url, key, "rekognition", 1)[0]
    rekognition.detect_moderation_labels(Image={"Bytes": (DEMO / "astronaut.jpg").read_bytes()})  # loads the models

    def time_each(fn) -> list[float]:
        out = []
        for data in pictures:
            started = time.perf_counter()
            fn(data)
            out.append(time.perf_counter() - started)
        return out

    bare = time_each(lambda data: labeler.predict([ImageRef("x", data=data)]))
    first = time_each(lambda data: rekognition.detect_moderation_labels(Image={"Bytes": data}))
    again = time_each(lambda data: rekognition.detect_moderation_labels(Image={"Bytes": data}))
    bare_again = time_each(lambda data: labeler.predict([ImageRef("x", data=data)]))
    base = statistics.median(bare + bare_again)
    for what, times in (("in-process Labeler.predict (baseline)", bare + bare_again),
                        ("over the API, new images (ingested)", first), ("over the API, the same images again", again)):
        ratio = statistics.median(times) / base
        print(f"  {what:<52} {statistics.median(times) * 1000:7.1f} ms/image   "
              f"total {sum(times):6.2f} s   ratio {ratio:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=400)
    parser.add_argument("--describes", type=int, default=800)
    parser.add_argument("--images", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loupe-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        svc = Service(Config(data_dir=data_dir), start_jobs=False)
        try:
            key = svc.api_keys.create("bench", "admin")
            svc.flow_definitions.create(FLOW_REQUEST)
            svc.catalog.ingest_file(DEMO / "cat.jpg")
        finally:
            svc.close()
        pictures = [(DEMO / f).read_bytes() for f in ("cat.jpg", "coffee.jpg", "rocket.jpg")]
        pictures += [make_image(tmp / f"img{i}.jpg", size=(640, 480), fmt="JPEG", seed=i).read_bytes()
                     for i in range(max(0, args.images - len(pictures)))]
        proc, url = start_server(data_dir)
        try:
            bench_loops(data_dir, url, key, args.loops, args.describes)
            bench_detect(url, key, pictures, tmp)
        finally:
            proc.terminate()
            proc.wait(10)
        bench_loops_in_process(data_dir, args.loops, args.describes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
