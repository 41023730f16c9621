"""Results page first load (AppTest, server side, each in a fresh process as a new app server would be) with 10,000
reviewed items against 100, in one run.

Three loads per size: the first ever (nothing stored yet: every figure is computed from the records, as after any
change), the first in a second app process once the figures are stored (what a page load costs while nothing
changed), and a plain rerun in that process. Items are moderation results with two reviewers each (bench_review's
seed). Target (issue 15): first load within 1 s at 10,000 reviewed items.

Run: .venv/bin/python bench/bench_results.py [--items 10000] [--small 100]
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
from core.service import Service  # noqa: E402

TARGET_S = 1.0
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    args = parser.parse_args()
    out = sys.stdout
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
            computed = load(data)
            stored = load(data)
            rows[n] = (computed, stored)
    out.write(f"Results page, first load in a fresh app process (1-min load average {os.getloadavg()[0]:.1f})\n")
    for n, (computed, stored) in rows.items():
        out.write(f"  {n:6,} reviewed items: computed {computed['first'] * 1000:7.0f} ms   "
                  f"stored {stored['first'] * 1000:6.0f} ms   rerun {stored['rerun'] * 1000:5.0f} ms   "
                  f"(metrics {stored['metrics']})\n")
    big = rows[args.items][1]["first"]
    out.write(f"first load with the figures stored at {args.items:,} items: {big:.2f} s (target <= {TARGET_S:.0f} s: "
              f"{'met' if big <= TARGET_S else 'NOT met'}); computed after a change: "
              f"{rows[args.items][0]['first']:.2f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
