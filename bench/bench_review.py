"""Benchmark human review: task page time to the next task after submit (AppTest, server side) with 10,000 open
loops against 20 and against an empty queue, and export time for 10,000 items (GT manifest, CSV, A2I) against an
empty export.

The task page's time includes the queue counts it shows. They are also timed on their own, in the core: the next
task and the counts after a submit in this app process, and the counts after a submit in another app process (a
second service on the same store). Target (issue 15): within 2x of the 20-loop figure at 10,000 open loops.

Run: .venv/bin/python bench/bench_review.py [--loops 10000] [--items 10000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from core.config import Config  # noqa: E402
from core.consolidation import KIND as CONSOLIDATED_KIND  # noqa: E402
from core.consolidation import consolidate_answers, result_key  # noqa: E402
from core.domain import Answer, HumanLoop, Prediction, Workflow, as_dict, utc_now  # noqa: E402
from core.loops import loop_record  # noqa: E402
from core.service import Service  # noqa: E402
from core.stores.base import Record  # noqa: E402
from core.task_types.moderation import moderation_content  # noqa: E402
from tests.review_seed import GENERAL, MODERATION, ingest_demo  # noqa: E402

APP = str(ROOT / "streamlit_app.py")


def seed_loops(data_dir: Path, n: int) -> None:
    svc = Service(Config(data_dir=data_dir), start_jobs=False)
    try:
        svc.workflows.save(Workflow(name="bench-flow", task_type="moderation", task_count=1))
        if n:
            (media_id,) = ingest_demo(svc, ("cat.jpg",))
            svc.predictions.save(Prediction(media_id, "bench", MODERATION + GENERAL))
            now = utc_now()
            svc.records.put_many(loop_record(HumanLoop(f"bench-{i:06d}", media_id, "bench-flow", reasons=("Weapons",),
                                                       created_at=now)) for i in range(n))
            svc.loops.recount()  # a bulk load writes no counts
    finally:
        svc.close()


def time_submit_to_next(data_dir: Path, rounds: int) -> list[float]:
    """Seconds for the script run that records a submit and renders the next task (or the empty queue)."""
    os.environ["LOUPE_DATA_DIR"] = str(data_dir)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["app.reviewer"] = "bench"
    at.run()
    at.switch_page("pages/moderation_task.py")
    at.run()
    times = []
    for _ in range(rounds):
        loop_id = at.session_state["moderation.loop_id"] if "moderation.loop_id" in at.session_state else None
        if loop_id is None:  # empty queue: time a plain rerun of the page
            start = time.perf_counter()
            at.run()
        else:
            next(cb for cb in at.checkbox if cb.label.startswith("`1`")).check()
            at.run()
            start = time.perf_counter()
            at.button(key=f"moderation.{loop_id}.submit").click().run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return times


def time_core(data_dir: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds, per round after a submit: next_task, then summary, in this process; summary after another process's
    submit (a second Service on the same store, as a second app server would be)."""
    here = Service(Config(data_dir=data_dir), start_jobs=False)
    there = Service(Config(data_dir=data_dir), start_jobs=False)
    times: dict[str, list[float]] = {"next": [], "counts": [], "counts_other": []}
    try:
        here.review.summary("bench")
        there.review.summary("other")  # warm both: the first call may build what later ones reuse
        for _ in range(rounds):
            task = here.review.next_task("bench")
            here.review.submit(task, moderation_content([("Weapons", "Violence")]))
            start = time.perf_counter()
            here.review.next_task("bench")
            times["next"].append(time.perf_counter() - start)
            start = time.perf_counter()
            here.review.summary("bench", task_type="moderation")
            times["counts"].append(time.perf_counter() - start)
            there.review.submit(there.review.next_task("other"), moderation_content([]))
            start = time.perf_counter()
            here.review.summary("bench", task_type="moderation")
            times["counts_other"].append(time.perf_counter() - start)
    finally:
        here.close()
        there.close()
    return times


def seed_items(svc: Service, n: int) -> None:
    svc.workflows.save(Workflow(name="bench-flow", task_type="moderation", task_count=2))
    (real_id,) = ingest_demo(svc, ("cat.jpg",))
    real = svc.catalog.get(real_id)
    now = utc_now()
    media, preds, loops, answers, cons = [], [], [], [], []
    for i in range(n):
        mid = f"{i:064x}"
        media.append(Record("media", mid, as_dict(replace(real, media_id=mid, file_name=f"img-{i:06d}.jpg")),
                            parent="image"))
        preds.append(Record("prediction", mid, as_dict(Prediction(mid, "bench", MODERATION + GENERAL, created_at=now)),
                            parent="local"))
        loop = HumanLoop(f"bench-{i:06d}", mid, "bench-flow", status="Completed", task_count=2, created_at=now)
        loops.append(Record("loop", loop.loop_id, as_dict(loop), parent="bench-flow"))
        pair = [Answer(loop.loop_id, w, moderation_content([("Weapons", "Violence")] if w == "a" or i % 3 else []),
                       now, now, 5.0) for w in ("a", "b")]
        answers += [Record("answer", f"{a.loop_id}|{a.worker_id}", as_dict(a), parent=a.loop_id) for a in pair]
        c = consolidate_answers(mid, pair, loops=[loop], workflow="bench-flow", candidates=["Weapons", "Violence"])
        cons.append(Record(CONSOLIDATED_KIND, result_key("bench-flow", mid), as_dict(c), parent="bench-flow",
                           sort=c.updated_at))  # as Consolidation writes results: paged newest first
    for batch in (media, preds, loops, answers, cons):
        svc.records.put_many(batch)


def time_export(svc: Service, fmt: str, out: Path) -> float:
    start = time.perf_counter()
    svc.exports.export(fmt, str(out), source_prefix="s3://bench/images")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loops", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-export", action="store_true", help="time the review queue only")
    args = parser.parse_args()
    out = sys.stdout
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        seed_loops(base / "empty", 0)
        seed_loops(base / "small", 20)
        start = time.perf_counter()
        seed_loops(base / "full", args.loops)
        out.write(f"seeded {args.loops} open loops in {time.perf_counter() - start:.1f} s\n")
        empty = time_submit_to_next(base / "empty", args.rounds)
        small = time_submit_to_next(base / "small", args.rounds)
        full = time_submit_to_next(base / "full", args.rounds)
        med = {k: statistics.median(v) * 1000 for k, v in (("empty", empty), ("small", small), ("full", full))}
        out.write(f"task page, empty queue (rerun):            median {med['empty']:7.1f} ms\n")
        out.write(f"task page, submit -> next task, 20 open:    median {med['small']:7.1f} ms\n")
        out.write(f"task page, submit -> next task, {args.loops} open: median {med['full']:7.1f} ms "
                  f"(x{med['full'] / med['small']:.2f} the 20-loop figure, target <= 2x: "
                  f"{'met' if med['full'] <= 2 * med['small'] else 'NOT met'}; x{med['full'] / med['empty']:.1f} "
                  "the empty page)\n")
        core_small = time_core(base / "small", args.rounds)
        core_full = time_core(base / "full", args.rounds)
        for key, what in (("next", "next task after a submit"), ("counts", "queue counts after a submit"),
                          ("counts_other", "counts after another process's submit")):
            a, b = statistics.median(core_small[key]) * 1000, statistics.median(core_full[key]) * 1000
            out.write(f"core, {what:38}: 20 open {a:6.1f} ms, {args.loops} open {b:7.1f} ms (x{b / a:.2f})\n")

        for label, n in () if args.no_export else (("empty", 0), ("full", args.items)):
            svc = Service(Config(data_dir=base / f"export-{label}"), start_jobs=False)
            try:
                if n:
                    start = time.perf_counter()
                    seed_items(svc, n)
                    out.write(f"seeded {n} reviewed items in {time.perf_counter() - start:.1f} s\n")
                for fmt in ("gt-manifest", "csv", "a2i"):
                    secs = time_export(svc, fmt, base / f"out-{label}-{fmt}")
                    out.write(f"export {fmt:11} {n:6} items: {secs * 1000:8.1f} ms\n")
            finally:
                svc.close()


if __name__ == "__main__":
    main()
