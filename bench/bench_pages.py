"""Every page's server-side rerun (AppTest) as the store grows, as a ratio to the same page's rerun with 100 items.

Local store: 100, 10,000 and 100,000 media items; DynamoDB (dynalite, started here): 100 and 20,000. Each store holds
N images, 10 predicted labels per image (1,000,000 at 100,000), N/10 open human loops (at most 10,000) and N/10
reviewed items (loops completed, answers and results; at most 10,000): written in bulk with put_many, as a store that
grew through the app would hold them, never through the models. Each size runs in a child process of its own.

Per page: the first visit (a new session switching to the page; the service already built; an earlier process has
loaded routing once, so the label snapshot exists: that load, with no snapshot yet, is reported on its own) and the
best of 15 plain reruns (the best, not the median: on a shared machine other processes only ever add time; the child's
JSON has the median too); on DynamoDB also the read capacity one rerun consumes (ReturnConsumedCapacity). Goals (issue
15): every rerun within 2x of its 100-item figure at 100,000 local and within 3x at 20,000 on dynalite, read capacity
per rerun not growing, first visit within 500 ms, Images and Transcripts at 10,000 items at or under 76 ms.

Run: .venv/bin/python bench/bench_pages.py [--quick] [--no-dynalite]
(--quick: 100, 2,000 and 10,000 local, 100 and 2,000 on dynalite.)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {"Home": "pages/home.py", "Upload": "pages/upload.py", "Images": "pages/images.py",
         "Transcripts": "pages/transcript.py", "Thresholds": "pages/thresholds.py",
         "Moderation": "pages/moderation_task.py", "Label review": "pages/label_review.py",
         "Results": "pages/results.py", "Settings": "pages/settings.py", "Members": "pages/members.py"}
RERUNS = 15
WORKFLOW = "bench-moderation"
LABEL_WORKFLOW = "bench-labels"
NAMES = ["Cat", "Dog", "Animal", "Mammal", "Pet", "Person", "Car", "Tree", "Building", "Food", "Cup", "Bird",
         "Flower", "Sky", "Water", "Phone", "Book", "Chair", "Table", "Bicycle"]
MODERATION = ["Weapons", "Violence", "Alcoholic Beverages", "Drinking", "Smoking"]


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# ---- building a store of N items, in bulk -----------------------------------------------------------------------
def build(records, n: int) -> float:
    """Write N images with their labels, loops, answers and results through put_many; returns seconds taken."""
    from core.catalog import Catalog, records_for
    from core.config import Config
    from core.consolidation import KIND as RESULT_KIND
    from core.consolidation import result_key
    from core.domain import MediaItem, Workflow
    from core.label_names import LISTED_KEY, LISTED_KIND, label_name_records
    from core.loops import loop_id_for
    from core.migration import RESULTS_MARKER
    from core.routing_policy import RoutingPolicy
    from core.stores.base import Record
    from core.workflows import KIND as WORKFLOW_KIND
    from core.workflows import workflow_body

    started = time.perf_counter()
    rng = random.Random(15)
    n_loops = min(10_000, max(1, n // 10))
    workflows = [Workflow(name=WORKFLOW, task_type="moderation", task_count=1, time_limit_s=600, created_at=_at(0)),
                 Workflow(name=LABEL_WORKFLOW, task_type="label_review", task_count=1, time_limit_s=600,
                          routing=RoutingPolicy(accept_at=0.5), created_at=_at(0))]
    batch: list[Record] = [Record(WORKFLOW_KIND, wf.name, workflow_body(wf)) for wf in workflows]
    n_audio = max(1, n // 100)

    def flush(force: bool = False) -> None:
        if len(batch) >= 5000 or (force and batch):
            records.put_many(batch)
            batch.clear()

    for i in range(n):
        media_id = f"{i:064x}"
        is_open, is_reviewed = i < n_loops, n_loops <= i < 2 * n_loops
        if i >= n - n_audio:  # the newest 1% are audio, never transcribed: the Transcripts list
            batch.extend(records_for(MediaItem(media_id=media_id, kind="audio", file_name=f"talk-{i:06d}.wav",
                                               size_bytes=200_000, format="wav", duration_s=6.0, created_at=_at(i))))
            flush()
            continue
        status = "in_review" if is_open else "reviewed" if is_reviewed else "labeled"
        item = MediaItem(media_id=media_id, kind="image", file_name=f"img-{i:06d}.jpg", size_bytes=20_000,
                         format="jpeg", width=640, height=480, status=status, created_at=_at(i))
        batch.extend(records_for(item))
        labels = [{"name": name, "confidence": round(rng.betavariate(4, 2), 4), "parents": [], "instances": [],
                   "category": "general", "parent_name": "", "taxonomy_level": 0, "source": "model"}
                  for name in rng.sample(NAMES, 8)]
        labels += [{"name": name, "confidence": round(rng.betavariate(2, 4), 4), "parents": [], "instances": [],
                    "category": "moderation", "parent_name": "", "taxonomy_level": 1, "source": "model"}
                   for name in rng.sample(MODERATION, 2)]
        batch.append(Record("prediction", media_id, {"media_id": media_id, "model_version": "bench-1",
                                                     "labels": labels, "source": "local", "created_at": _at(i)},
                            parent="local"))
        if is_open or is_reviewed:  # open loops: every other one reviews labels; reviewed items: moderation
            flow = LABEL_WORKFLOW if is_open and i % 2 else WORKFLOW
            loop_id = loop_id_for(flow, media_id)
            batch.append(Record("loop", loop_id, {
                "loop_id": loop_id, "media_id": media_id, "workflow": flow,
                "status": "InProgress" if is_open else "Completed", "reasons": ["Weapons"],
                "activation_results": {}, "is_audit": False, "task_count": 1, "created_at": _at(i)}, parent=flow))
        if is_reviewed:
            batch.append(Record("answer", f"{loop_id}|ann", {
                "loop_id": loop_id, "worker_id": "ann", "content": {"moderation": {"categories": ["Weapons"]}},
                "acceptance_time": _at(i), "submission_time": _at(i), "time_spent_s": 4.0}, parent=loop_id))
            batch.append(Record(RESULT_KIND, result_key(WORKFLOW, media_id), {
                "media_id": media_id, "workflow": WORKFLOW, "task_type": "moderation", "loop_ids": [loop_id],
                "reviewers": ["ann"], "labels": [{"name": "Weapons", "votes": 1, "reviewers": 1, "is_majority": True,
                                                  "weighted_score": 1.0, "is_accepted": True, "confidence": 1.0,
                                                  "parent_name": "Violence"}],
                "boxes": [], "confidence": 1.0, "source": "review", "updated_at": _at(i)}, parent=WORKFLOW,
                sort=_at(i)))
        flush()
    batch.append(Record(RESULTS_MARKER[0], RESULTS_MARKER[1], {"summary": "bench store"}))
    batch.extend(label_name_records([*NAMES, *MODERATION]))  # the names a store grown through the app has listed
    batch.append(Record(LISTED_KIND, LISTED_KEY, {"names": len(NAMES) + len(MODERATION)}))
    batch.append(Record("prediction_stamp", "latest", {"token": uuid.uuid4().hex, "saved_at": _at(n)}))
    flush(force=True)
    Catalog(records, None, Config(data_dir=Path(tempfile.mkdtemp()))).recount()
    return time.perf_counter() - started


def give_files(blobs, n: int, work: Path) -> None:
    """Files for the items a page opens: a tiny image for each item in a loop, the cat for the newest image, a wav
    for the newest audio item (the others are only listed)."""
    from PIL import Image

    tiny = work / "tiny.png"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(tiny)
    for i in range(min(10_000, max(1, n // 10))):
        blobs.put_file(f"{i:064x}", tiny)
    n_audio = max(1, n // 100)
    blobs.put_file(f"{n - n_audio - 1:064x}", ROOT / "demo" / "cat.jpg")
    blobs.put_file(f"{n - 1:064x}", ROOT / "demo" / "welcome.wav")


def _at(i: int) -> str:
    return f"2026-01-{1 + i // 86_400:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z"


# ---- measuring in a child process -------------------------------------------------------------------------------
def measure(store: str, n: int, work: Path) -> dict:
    """Build a store of n items, then time each page's first visit and reruns (and read capacity on DynamoDB)."""
    from streamlit.testing.v1 import AppTest

    from components.app import service_outside_script
    from core.config import Config
    from core.stores import open_stores

    os.environ.update({"LOUPE_DATA_DIR": str(work / "data"), "LOUPE_STORE": store})
    config = Config.from_env()
    records, blobs = open_stores(config)
    if store == "dynamodb":
        from core.aws import make_client
        from core.stores.aws_setup import ensure_table

        ensure_table(make_client("dynamodb", records.aws), records.table)
    build_s = build(records, n)
    give_files(blobs, n, work)
    snapshot_s = first_routing_load(records, blobs)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
    at.run()  # builds the service (startup work is not a page's)
    service = service_outside_script()
    service.results.recount()  # the Results totals of a bulk-written store are summed once, like its catalog's
    results = {"build_s": build_s, "snapshot_s": snapshot_s, "pages": {}}
    for title, script in PAGES.items():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
        at.session_state["app.reviewer"] = "ann"
        at.run()
        started = time.perf_counter()
        at.switch_page(script)
        at.run()
        first = time.perf_counter() - started
        if at.exception:
            results["pages"][title] = {"error": str(at.exception[0].message)[:200]}
            continue
        times, rcus = [], []
        for _ in range(RERUNS):
            rcu = getattr(service.records, "consumed_rcu", 0.0)
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
            rcus.append(getattr(service.records, "consumed_rcu", 0.0) - rcu)
        shown = [e.value for e in (*at.error, *at.warning, *at.info)]  # what the page says, to check it drew its data
        results["pages"][title] = {"first_s": first, "rerun_s": min(times), "median_s": statistics.median(times),
                                   "rcu": statistics.median(rcus), "notes": [str(v)[:120] for v in shown]}
    return results


def first_routing_load(records, blobs) -> float:
    """The first routing load a store ever sees (every prediction read, then the snapshot written), as an earlier app
    process would have done it: the measured process then finds the snapshot, as every later process does."""
    from core.label_snapshots import LabelSnapshots
    from core.predictions import Predictions
    from core.routing import Router

    router = Router(Predictions(records), None, LabelSnapshots(records, blobs))
    started = time.perf_counter()
    router.frames()
    loaded_s = time.perf_counter() - started
    router.wait_for_snapshot(600)
    return loaded_s


def child(store: str, n: int, env: dict[str, str]) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-pages-{store}-{n}-"))
    try:
        done = subprocess.run([sys.executable, __file__, "--child", store, str(n), str(work)], cwd=ROOT,
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=7200)
        if done.returncode != 0:
            raise SystemExit(f"{store} {n}: {done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def start_dynalite() -> tuple[subprocess.Popen, str, Path]:
    binary = ROOT / ".cache" / "dynalite" / "node_modules" / ".bin" / "dynalite"
    if not binary.exists():
        raise SystemExit("dynalite is not installed: run `make setup-test`, or pass --no-dynalite.")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="bench-dynalite-"))
    proc = subprocess.Popen(["node", str(binary), "--host", "127.0.0.1", "--port", str(port), "--path", str(data),
                             "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    return proc, url, data


def report(store: str, sizes: list[int], runs: dict[int, dict]) -> None:
    base = runs[sizes[0]]["pages"]
    head = f"{'page':<13}" + "".join(f"{n:>22,}" for n in sizes) + "   first visit (largest)"
    out(f"\n{store}: rerun, best of {RERUNS}, ms (ratio to {sizes[0]:,} items)" + (", read capacity per rerun"
                                                                       if store == "dynamodb" else ""))
    out(head)
    for title in PAGES:
        cells = []
        for n in sizes:
            page = runs[n]["pages"].get(title, {})
            if "error" in page or "error" in base.get(title, {}):
                cells.append(f"{'error':>22}")
                continue
            ratio = page["rerun_s"] / base[title]["rerun_s"]
            rcu = f" {page['rcu']:5.1f} RCU" if store == "dynamodb" else ""
            cells.append(f"{page['rerun_s'] * 1000:9.0f} ({ratio:4.1f}x){rcu}".rjust(22))
        last = runs[sizes[-1]]["pages"].get(title, {})
        first = f"{last['first_s'] * 1000:8.0f} ms" if "first_s" in last else last.get("error", "")
        out(f"{title:<13}" + "".join(cells) + f"   {first}")
    errors = {f"{title} at {n:,}": p["error"] for n in sizes for title, p in runs[n]["pages"].items() if "error" in p}
    for where, error in errors.items():
        out(f"  {where}: {error}")
    out("  built in " + ", ".join(f"{runs[n]['build_s']:.1f} s ({n:,})" for n in sizes))
    loads = ", ".join(f"{runs[n]['snapshot_s'] * 1000:.0f} ms ({n:,})" for n in sizes)
    out("  Thresholds' first visit finds the label snapshot an earlier process wrote; the first routing load a store "
        f"ever sees (no snapshot yet) took {loads}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--no-dynalite", action="store_true", help="local store only")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.child:
        store, n, work = args.child
        out(json.dumps(measure(store, int(n), Path(work))))
        return 0
    local_sizes = [100, 2_000, 10_000] if args.quick else [100, 10_000, 100_000]
    runs = {n: child("local", n, {}) for n in local_sizes}
    report("local", local_sizes, runs)
    if args.no_dynalite:
        return 0
    proc, url, data = start_dynalite()
    try:
        sizes = [100, 2_000] if args.quick else [100, 20_000]
        env = {"AWS_ENDPOINT_URL": url, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
               "AWS_SECRET_ACCESS_KEY": "bench"}
        runs = {n: child("dynamodb", n, {**env, "LOUPE_DYNAMODB_TABLE": f"bench-{n}"}) for n in sizes}
        report("dynamodb", sizes, runs)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
