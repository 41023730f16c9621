"""Thresholds page speed: the server-side rerun after a slider move (AppTest) with 100,000 and 1,000,000 stored
label predictions, against the same page with no predictions in the same run; plus the time to load the
predictions from the store into the routing frame at each size.

Targets: a slider-move rerun within 100 ms at 100,000 labels and 1 s at 1,000,000 (the empty page's rerun is
the floor: AppTest, the router and the sidebar). Labels are synthetic moderation labels, 10 per item.

Run: .venv/bin/python bench/bench_thresholds.py [SIZES]   e.g. 100000,1000000 (the default)
"""
from __future__ import annotations

import logging
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Config  # noqa: E402
from core.domain import Label, Prediction  # noqa: E402
from core.routing import Router  # noqa: E402
from core.service import Service  # noqa: E402

LABELS_PER_ITEM = 10
NAMES = ["Explicit Nudity", "Suggestive", "Violence", "Weapons", "Drugs", "Pills", "Tobacco Products", "Smoking",
         "Alcoholic Beverages", "Drinking", "Gambling", "Rude Gestures", "Middle Finger", "Hate Symbols",
         "Visually Disturbing", "Explosions And Blasts", "Revealing Clothes", "Female Swimwear Or Underwear",
         "Male Swimwear Or Underwear", "Barechested Male"]
TARGETS_S = {100_000: 0.1, 1_000_000: 1.0}
MOVES = [70.0, 60.0, 75.0, 85.0, 65.0, 90.0, 55.0, 72.5, 62.5, 77.5, 87.5, 67.5, 92.5, 57.5, 80.0]


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def seed(data_dir: Path, n_labels: int) -> float:
    rng = random.Random(7)
    service = Service(Config(data_dir=data_dir), start_jobs=False)
    started = time.perf_counter()
    n_items = n_labels // LABELS_PER_ITEM
    batch = []
    for i in range(n_items):
        names = rng.sample(NAMES, LABELS_PER_ITEM)
        batch.append(Prediction(f"item-{i:07d}", "bench-model-1", tuple(
            Label(n, round(rng.betavariate(4, 2), 4), category="moderation") for n in names)))
        if len(batch) == 5000:
            service.predictions.save_many(batch)
            batch = []
    if batch:
        service.predictions.save_many(batch)
    service.close()
    return time.perf_counter() - started


def load_time(data_dir: Path) -> float:
    service = Service(Config(data_dir=data_dir), start_jobs=False)
    try:
        router = Router(service.predictions, service.catalog)
        started = time.perf_counter()
        router.frame("moderation")
        return time.perf_counter() - started
    finally:
        service.close()


def rerun_times(data_dir: Path, page: str = "pages/thresholds.py") -> tuple[float, list[float]]:
    """(first page run incl. loading, reruns after each slider move) for a page (plain reruns if no slider)."""
    from streamlit.testing.v1 import AppTest

    os.environ["LOUPE_DATA_DIR"] = str(data_dir)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
    at.run()
    started = time.perf_counter()
    at.switch_page(page)
    at.run()
    first = time.perf_counter() - started
    assert not at.exception, at.exception
    times = []
    has_slider = any(s.key == "thresholds.high" for s in at.slider)
    for value in MOVES:
        started = time.perf_counter()
        if has_slider:
            at.slider(key="thresholds.high").set_value(value).run()
        else:
            at.run()  # the empty page has no slider: a plain rerun is its floor
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    return first, times


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "100000,1000000").split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        empty_dir = Path(tmp) / "empty"
        Service(Config(data_dir=empty_dir), start_jobs=False).close()
        _, empty_times = rerun_times(empty_dir)
        floor = statistics.median(empty_times)
        home = statistics.median(rerun_times(empty_dir, "pages/home.py")[1])
        out(f"empty Thresholds page (no predictions): rerun median {floor * 1000:.0f} ms; "
            f"Home page rerun median {home * 1000:.0f} ms (baselines: AppTest + router + sidebar)")
        for n in sizes:
            data_dir = Path(tmp) / f"n{n}"
            seed_s = seed(data_dir, n)
            load_s = min(load_time(data_dir) for _ in range(2))
            first, times = rerun_times(data_dir)
            median = statistics.median(times)
            target = TARGETS_S.get(n)
            verdict = "" if target is None else \
                f" (target {target * 1000:.0f} ms: {'met' if median <= target else 'MISSED'})"
            out(f"{n:>9,} labels ({n // LABELS_PER_ITEM:,} items): seeded in {seed_s:.1f} s; "
                f"load from store {load_s * 1000:.0f} ms; first page run {first * 1000:.0f} ms; "
                f"slider-move rerun median {median * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, "
                f"{median / floor:.1f}x the empty page{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
