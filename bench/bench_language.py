"""What deciding a long file's language once costs (multilingual base model, no language set), against the two ways
to do it:
- detect: what Loupe does. The first window(s) to start decode the file's first window, find its speech (Silero
  VAD) and run Whisper's language detection on up to 60 s of it (core/transcribers/whisper.py `detect_language`);
  the answer is stored and every window uses it. Windows that start together detect at the same time, so a job
  waits about one detection.
- window 0 first: transcribe window 0 alone, then submit the other windows with its language. Every other worker
  waits one window's transcription.
Both are timed in this process on the same file (best of the rounds), then a whole job on a local cluster of 2
workers, with the language set (the baseline: no detection at all) and not set (decided once), in interleaved rounds.

Run (about 6 minutes on an idle 2-core machine):
    .venv/bin/python bench/bench_language.py
Quick check that it works (about 2 minutes; the figures only show direction):
    .venv/bin/python bench/bench_language.py --quick
Options: [--minutes 10] [--window-s 300] [--rounds 2] [--no-job] (only the two timings in this process);
--quick is a 2-minute file, 60-second windows, one round.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_cluster import audio_seconds, join_clips, make_clips, timed_job  # noqa: E402

from core.config import Config  # noqa: E402
from core.service import Service  # noqa: E402
from core.transcribers import TranscriberConfig, load_transcriber  # noqa: E402

QUICK = {"minutes": 2, "window_s": 60, "rounds": 1}


def best(fn, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--window-s", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-job", action="store_true", help="only the two timings in this process")
    parser.add_argument("--quick", action="store_true", help=f"small sizes, one round: {QUICK}")
    args = parser.parse_args()
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        joined = join_clips(folder, make_clips(folder, args.minutes))
        audio_s = audio_seconds(joined)
        print(f"one {audio_s:.0f} s file of espeak-ng speech, windows of {args.window_s} s, base model, on "
              f"{os.cpu_count()} CPUs (1-min load average {os.getloadavg()[0]:.1f}); best of {args.rounds}",
              flush=True)
        transcriber = load_transcriber(TranscriberConfig(model="base", cache_dir=folder / "models"))
        transcriber.model()
        detect_s, detected = best(lambda: transcriber.detect_language(joined, window_s=args.window_s), args.rounds)
        window0_s, _ = best(lambda: transcriber.transcribe_windows(joined, first=0, through=0,
                                                                   window_s=args.window_s, language="en"), args.rounds)
        print(f"  in this process: detect the language {detect_s:6.2f} s ({detected.language}, "
              f"p={detected.probability:.2f}); transcribe window 0 {window0_s:6.2f} s: window 0 first would hold "
              f"the other workers {window0_s / max(detect_s, 1e-6):.0f}x as long as detecting", flush=True)
        if args.no_job:
            print(json.dumps({"audio_s": round(audio_s, 1), "window_s": args.window_s, "detect_s": round(detect_s, 2),
                              "window0_s": round(window0_s, 2), "language": detected.language}))
            return 0
        config = Config(data_dir=folder / "cluster", dask="local", dask_workers=2, transcriber="base",
                        transcribe_window_s=args.window_s)
        rows: dict[str, list[float]] = {"language set (en)": [], "decided once": []}
        with Service(config) as service:
            media_id = service.catalog.ingest_file(joined).media_id
            timed_job(service, lambda: service.transcription.submit([media_id], force=True, language="en"))  # warm
            for _ in range(args.rounds):
                rows["language set (en)"].append(timed_job(service, lambda: service.transcription.submit(
                    [media_id], force=True, language="en")))
                rows["decided once"].append(timed_job(service, lambda: service.transcription.submit(
                    [media_id], force=True)))
            language = service.transcripts.latest(media_id).transcript.language
        baseline, once = min(rows["language set (en)"]), min(rows["decided once"])
        print(f"  a job on 2 workers: language set {baseline:6.2f} s; decided once {once:6.2f} s "
              f"({once - baseline:+.2f} s, {once / baseline:.2f}x; the version says {language!r}); runs: {rows}",
              flush=True)
        print(json.dumps({"audio_s": round(audio_s, 1), "window_s": args.window_s, "detect_s": round(detect_s, 2),
                          "window0_s": round(window0_s, 2), "job_language_set_s": round(baseline, 2),
                          "job_decided_once_s": round(once, 2), "language": language}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
