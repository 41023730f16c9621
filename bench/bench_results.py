"""Results page first load (AppTest, server side, each in a fresh process as a new app server would be) with 10,000
reviewed items against 100, in one run.

Per size, each load the first of the Results page in a new app process:
- "bulk count": the first load after a bulk load (put_many, no totals kept yet): every item is summed once
  (core/result_totals.py), as on the first use of a store or after a workflow's threshold changes;
- "stored": nothing changed since: the stored view is read;
- "new answer": after one reviewer answered one more loop (a second workflow's loop of two reviewers): the item it
  changed is counted again, and the view computed from the totals;
- "new result": after the second reviewer's answer completed that loop and consolidated its result;
- "rerun": a plain rerun in the process of the "new result" load.
Items are moderation results with two reviewers each (bench_review's seed). Target (issue 15): first load within
1 s at 10,000 reviewed items, also right after a new answer or result.

Run: .venv/bin/python bench/bench_results.py [--items 10000] [--small 100]
     .venv/bin/python bench/bench_results.py --dynalite [100 1000]   (read capacity of one Results view on dynalite)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_review import seed_items  # noqa: E402

from core.config import Config  # noqa: E402
from core.domain import HumanLoop, Workflow  # noqa: E402
from core.loops import loop_id_for  # noqa: E402
from core.service import Service  # noqa: E402
from core.task_types.moderation import moderation_content  # noqa: E402

TARGET_S = 1.0
SECOND_FLOW = "bench-second"
PROBE = """
import json, os, sys, time
sys.path.insert(0, {root!r})
os.environ["LOUPE_DATA_DIR"] = {data!r}
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=600)
at.session_state["app.reviewer"] = "bench"
at.run()  # Home: builds the service (st.cache_resource), outside the timing
at.switch_page("pages/results.py")
start = time.perf_counter()
at.run()
first = time.perf_counter() - start
assert not at.exception, at.exception
start = time.perf_counter()
at.run()
rerun = time.perf_counter() - start
print(json.dumps({{"first": first, "rerun": rerun, "metrics": [m.value for m in at.metric][:3]}}))
"""


def load(data: Path) -> dict:
    code = PROBE.format(root=str(ROOT), data=str(data), app=str(ROOT / "streamlit_app.py"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def answer_one_more(svc: Service, worker: str) -> None:
    """One more answer through the service, as a reviewer's submit writes it (marks, counters, result)."""
    if svc.workflows.version(SECOND_FLOW) is None:
        svc.workflows.save(Workflow(name=SECOND_FLOW, task_type="moderation", task_count=2))
        media_id = f"{0:064x}"
        svc.loops.create(HumanLoop(loop_id_for(SECOND_FLOW, media_id), media_id, SECOND_FLOW, task_count=2))
    svc.review.submit(svc.review.next_task(worker), moderation_content([("Weapons", "Violence")]))


def answer_in(data: Path, worker: str) -> None:
    svc = Service(Config(data_dir=data), start_jobs=False, local_admin=True)
    try:
        answer_one_more(svc, worker)
    finally:
        svc.close()


def dynalite_reads(sizes: list[int]) -> None:
    """Read capacity of one Results view (core, in a new process's service) on dynalite: nothing changed, after one
    new answer, after a new result. It should not grow with the store."""
    from bench_pages import start_dynalite

    from core.aws import AwsConfig, make_client
    from core.stores.aws_setup import ensure_table
    from core.stores.dynamodb import DynamoDBRecordStore
    from core.stores.local import LocalBlobStore

    proc, url, _ = start_dynalite()
    aws = AwsConfig(endpoint_url=url, region="us-east-1", access_key_id="bench", secret_access_key="bench")
    out = sys.stdout
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in sizes:
                table = f"bench-results-{n}"
                ensure_table(make_client("dynamodb", aws), table)
                folder = Path(tmp) / f"dynalite-{n}"

                def service(folder: Path = folder, table: str = table) -> Service:
                    return Service(Config(data_dir=folder), stores=(DynamoDBRecordStore(table, aws=aws),
                                                                    LocalBlobStore(folder / "media")),
                                   start_jobs=False, local_admin=True)

                svc = service()
                seed_items(svc, n)
                svc.results.view()  # the bulk count
                svc.close()
                cells = []
                for name, worker in (("stored", ""), ("new answer", "c"), ("new result", "d")):
                    if worker:
                        svc = service()
                        answer_one_more(svc, worker)
                        svc.close()
                    svc = service()  # a new app process
                    before, start = svc.records.consumed_rcu, time.perf_counter()
                    svc.results.view()
                    took_ms = (time.perf_counter() - start) * 1000
                    cells.append(f"{name} {svc.records.consumed_rcu - before:6.1f} RCU {took_ms:5.0f} ms")
                    svc.close()
                out.write(f"dynalite, {n:6,} reviewed items, one Results view: " + "   ".join(cells) + "\n")
    finally:
        proc.terminate()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--dynalite", type=int, nargs="*", metavar="N",
                        help="only the read capacity of a Results view on dynalite, at these sizes (default 100 1000)")
    args = parser.parse_args()
    out = sys.stdout
    if args.dynalite is not None:
        dynalite_reads(args.dynalite or [100, 1_000])
        return 0
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.small, args.items):
            data = Path(tmp) / f"items-{n}"
            svc = Service(Config(data_dir=data), start_jobs=False)
            try:
                start = time.perf_counter()
                seed_items(svc, n)
                out.write(f"seeded {n:,} reviewed items in {time.perf_counter() - start:.1f} s\n")
            finally:
                svc.close()
            row = {"bulk count": load(data), "stored": load(data)}
            answer_in(data, "c")
            row["new answer"] = load(data)
            answer_in(data, "d")
            row["new result"] = load(data)
            rows[n] = row
    out.write(f"Results page, first load in a fresh app process (1-min load average {os.getloadavg()[0]:.1f})\n")
    for n, row in rows.items():
        last = row["new result"]
        out.write(f"  {n:6,} reviewed items: " + "   ".join(f"{name} {r['first'] * 1000:6.0f} ms" for name, r in
                                                            row.items())
                  + f"   rerun {last['rerun'] * 1000:5.0f} ms   (metrics {last['metrics']})\n")
    big, small = rows[args.items], rows[args.small]
    for name in ("stored", "new answer", "new result"):
        first = big[name]["first"]
        verdict = "met" if first <= TARGET_S else "NOT met"
        out.write(f"{name} at {args.items:,} items: {first:.2f} s, {first / small[name]['first']:.1f}x the "
                  f"{args.small:,}-item figure (target <= {TARGET_S:.0f} s: {verdict})\n")
    out.write(f"bulk count at {args.items:,} items (once per bulk load or threshold change): "
              f"{big['bulk count']['first']:.2f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
