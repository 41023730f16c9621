"""Benchmark: the transcript review page's rerun after the threshold slider moves, server-side via AppTest.

A 1-hour transcript (about 9,000 words in 450 segments) against the same page on an empty store, each
measured as the median of several slider moves (the empty page: several reruns). Target: under 300 ms.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from core.config import Config  # noqa: E402
from core.domain import Segment, Transcript, Word  # noqa: E402
from core.service import Service  # noqa: E402

PAGE = "pages/transcript.py"
MOVES = 9
VOCABULARY = ("the model transcribes speech and people review words with low confidence in the browser "
              "every edit becomes a version loupe keeps both when two reviewers save at once").split()


def hour_transcript(words_total: int = 9000, per_segment: int = 20, seed: int = 7) -> Transcript:
    rng = random.Random(seed)
    segments, at = [], 0.0
    for _ in range(words_total // per_segment):
        words = []
        for _ in range(per_segment):
            length = rng.uniform(0.25, 0.5)
            words.append(Word(rng.choice(VOCABULARY), round(at, 3), round(at + length, 3), round(rng.random(), 4)))
            at += length
        at += 0.6
        segments.append(Segment(words[0].start_s, words[-1].end_s, " ".join(w.text for w in words), tuple(words)))
    return Transcript("", tuple(segments), language="en", duration_s=round(at, 3), model_version="synthetic")


def timed_reruns(data_dir: Path, *, with_slider: bool) -> list[float]:
    os.environ["LOUPE_DATA_DIR"] = str(data_dir)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.session_state["app.reviewer"] = "bench"
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    times = []
    for i in range(MOVES):
        start = time.perf_counter()
        if with_slider:
            at.slider(key="transcript.threshold").set_value(round(0.3 + 0.05 * (i % 8), 2)).run()
        else:
            at.run()
        times.append((time.perf_counter() - start) * 1000)
        assert not at.exception, at.exception
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty_dir, full_dir = Path(tmp) / "empty", Path(tmp) / "full"
        service = Service(Config(data_dir=full_dir), start_jobs=False)
        media_id = service.catalog.ingest_file(ROOT / "demo" / "welcome.wav").media_id
        transcript = hour_transcript()
        service.transcripts.save_model_transcript(media_id, transcript)
        service.close()
        empty = timed_reruns(empty_dir, with_slider=False)
        full = timed_reruns(full_dir, with_slider=True)
    out = sys.stdout
    out.write(f"transcript: {len(transcript.words):,} words in {len(transcript.segments)} segments, "
              f"{transcript.duration_s / 3600:.2f} h; {MOVES} reruns each, server-side (AppTest)\n")
    out.write(f"empty page rerun:                    median {statistics.median(empty):6.1f} ms  "
              f"(min {min(empty):.1f}, max {max(empty):.1f})\n")
    out.write(f"1-hour transcript, slider moved:     median {statistics.median(full):6.1f} ms  "
              f"(min {min(full):.1f}, max {max(full):.1f})\n")
    verdict = "met" if statistics.median(full) < 300 else "NOT met"
    out.write(f"difference: {statistics.median(full) - statistics.median(empty):.1f} ms; target < 300 ms: {verdict}\n")


if __name__ == "__main__":
    main()
