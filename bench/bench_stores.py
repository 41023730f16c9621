"""Store throughput under a small team: 8 simulated reviewers each submit 500 answers at once, against the local
store (the baseline), moto_server and dynalite, all in one run. Reports throughput, p50/p99 latency and lost or
duplicated answers (must be 0).

An answer is what core/answers.py writes: a create-only record of kind "answer", key "<loop_id>|<worker_id>",
parent loop_id. A reviewer whose submit fails for a transient reason submits again; AlreadyExists on the retry
means the first attempt landed, so it counts once.

Run: .venv/bin/python bench/bench_stores.py [REVIEWERS] [ANSWERS_EACH]
It starts moto_server and dynalite itself (dynalite from `make setup-test`) and stops them at the end.
"""
from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.aws import AwsConfig, make_client  # noqa: E402
from core.domain import Answer, as_dict, utc_now  # noqa: E402
from core.errors import AlreadyExists  # noqa: E402
from core.stores.aws_setup import ensure_table  # noqa: E402
from core.stores.dynamodb import DynamoDBRecordStore  # noqa: E402
from core.stores.local import SQLiteRecordStore  # noqa: E402
from tests.dynamodb_servers import dynalite_endpoint, moto_endpoint  # noqa: E402

log = logging.getLogger("bench_stores")


def run_reviewers(store, reviewers: int, answers_each: int) -> dict[str, float]:
    latencies_s: list[float] = []
    retries = Counter()

    def reviewer(worker: int) -> list[float]:
        mine = []
        worker_id = f"reviewer-{worker}"
        for i in range(answers_each):
            loop_id = f"loop-{i:05d}"
            answer = Answer(loop_id=loop_id, worker_id=worker_id,
                            content={"moderationCategories": [{"name": "Suggestive", "selected": i % 3 == 0}]},
                            acceptance_time=utc_now(), submission_time=utc_now(), time_spent_s=4.2)
            start = time.perf_counter()
            for attempt in range(5):
                try:
                    store.create("answer", f"{loop_id}|{worker_id}", as_dict(answer), parent=loop_id)
                    break
                except AlreadyExists:
                    break  # an earlier attempt landed
                except Exception:
                    retries[worker] += 1
                    log.warning("submit failed, retrying", exc_info=attempt == 4)
                    time.sleep(0.1 * (attempt + 1))
            mine.append(time.perf_counter() - start)
        return mine

    start = time.perf_counter()
    with ThreadPoolExecutor(reviewers) as pool:
        for part in pool.map(reviewer, range(reviewers)):
            latencies_s.extend(part)
    elapsed_s = time.perf_counter() - start

    keys = [r.key for r in store.query("answer")]
    expected = {f"loop-{i:05d}|reviewer-{w}" for w in range(reviewers) for i in range(answers_each)}
    per_loop_ok = all(len(list(store.query("answer", parent=f"loop-{i:05d}"))) == reviewers
                      for i in range(0, answers_each, max(1, answers_each // 20)))
    latencies_s.sort()
    return {
        "answers_per_s": len(latencies_s) / elapsed_s,
        "p50_ms": 1000 * statistics.median(latencies_s),
        "p99_ms": 1000 * latencies_s[int(0.99 * (len(latencies_s) - 1))],
        "lost": len(expected - set(keys)),
        "duplicated": len(keys) - len(set(keys)),
        "retries": sum(retries.values()),
        "per_loop_ok": per_loop_ok,
        "elapsed_s": elapsed_s,
    }


def dynamodb_store(endpoint: str) -> DynamoDBRecordStore:
    aws = AwsConfig(endpoint_url=endpoint, region="us-east-1", access_key_id="bench", secret_access_key="bench")
    table = f"bench-{uuid.uuid4().hex[:8]}"
    ensure_table(make_client("dynamodb", aws), table)
    return DynamoDBRecordStore(table, aws=aws)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    reviewers = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    answers_each = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        local = SQLiteRecordStore(Path(tmp) / "bench.sqlite3")
        results["local (SQLite, baseline)"] = run_reviewers(local, reviewers, answers_each)
        local.close()
    for name, endpoint in (("moto_server", moto_endpoint()), ("dynalite", dynalite_endpoint())):
        if not endpoint:
            sys.stdout.write(f"{name}: not installed, skipped (run `make setup-test`)\n")
            continue
        results[f"DynamoDB on {name}"] = run_reviewers(dynamodb_store(endpoint), reviewers, answers_each)

    baseline = results["local (SQLite, baseline)"]["answers_per_s"]
    sys.stdout.write(f"{reviewers} reviewers x {answers_each} answers each "
                     f"({reviewers * answers_each} create-only writes)\n")
    sys.stdout.write(f"{'backend':28} {'answers/s':>10} {'vs local':>9} {'p50 ms':>8} {'p99 ms':>8} "
                     f"{'lost':>5} {'dup':>5} {'retries':>8}\n")
    for name, r in results.items():
        sys.stdout.write(f"{name:28} {r['answers_per_s']:10.0f} {r['answers_per_s'] / baseline:8.2f}x "
                         f"{r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['lost']:5d} {r['duplicated']:5d} "
                         f"{r['retries']:8d}\n")
    bad = [n for n, r in results.items() if r["lost"] or r["duplicated"] or not r["per_loop_ok"]]
    if bad:
        sys.stdout.write(f"LOST OR DUPLICATED ANSWERS on: {', '.join(bad)}\n")
        sys.exit(1)
    sys.stdout.write("no answer lost or duplicated on any backend\n")


if __name__ == "__main__":
    main()
