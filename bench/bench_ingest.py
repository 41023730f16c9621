"""Ingest throughput: N small images (1,000 by default; the README also gives 100,000) through
`python -m core ingest` against the floor, a plain loop that only hashes and copies the same files; and local-store
writes per second from 8 threads.

Run: .venv/bin/python bench/bench_ingest.py [N_IMAGES] [WIDTHxHEIGHT]   e.g. 100000 32x24
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.stores.local import SQLiteRecordStore  # noqa: E402
from tests.media_factory import make_image  # noqa: E402

log = logging.getLogger("bench_ingest")


def floor_hash_and_copy(files: list[Path], dest: Path) -> float:
    start = time.perf_counter()
    for f in files:
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        target = dest / digest[:2] / digest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
    return time.perf_counter() - start


def loupe_cli_ingest(folder: Path, data_dir: Path) -> float:
    env = {**os.environ, "LOUPE_DATA_DIR": str(data_dir)}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "core", "ingest", str(folder), "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"ingest failed: {out.stderr[-2000:]}")
    return elapsed


def store_writes_per_s(db: Path, threads: int = 8, per_thread: int = 500) -> float:
    store = SQLiteRecordStore(db)

    def write(t: int) -> None:
        for i in range(per_thread):
            store.create("answer", f"loop-{i}|worker-{t}", {"worker": t, "i": i}, parent=f"loop-{i}")

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(threads)))
    elapsed = time.perf_counter() - start
    assert store.count("answer") == threads * per_thread
    store.close()
    return threads * per_thread / elapsed


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    width, height = (int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "64x48").split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "images"
        folder.mkdir()
        files = [make_image(folder / f"img-{i:06d}.png", size=(width, height), fmt="PNG", seed=i) for i in range(n)]
        floor_s = floor_hash_and_copy(files, tmp / "floor")
        loupe_s = loupe_cli_ingest(folder, tmp / "loupe")
        writes = store_writes_per_s(tmp / "writes.sqlite3")
    sys.stdout.write(
        f"ingest {n:,} small PNGs ({width}x{height}):\n"
        f"  floor (hash + copy loop):        {n / floor_s:8.0f} images/s ({floor_s:.2f} s)\n"
        f"  python -m core ingest (CLI):     {n / loupe_s:8.0f} images/s ({loupe_s:.2f} s, incl. process start)\n"
        f"  overhead vs floor:               {loupe_s / floor_s:8.1f}x\n"
        f"local store, 8 threads x 500 create(): {writes:8.0f} writes/s\n"
    )


if __name__ == "__main__":
    main()
