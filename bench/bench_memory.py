"""Peak memory: transcribing 10 minutes to 8 hours of audio, and uploading large files to the app server.

Transcription. The audio is mostly silence with one espeak-ng sentence every 5 minutes (FLAC, 16 kHz mono,
made with sox), so a long run stays short with VAD on. Each run is a fresh process that loads tiny.en (int8,
2 threads, beam 5, VAD, word timestamps) and transcribes one file; its figure is that process's peak resident
memory (VmHWM) and the rise above the peak after the model loaded. Two paths, in the same run:
- windowed: Loupe's transcriber, which decodes with PyAV in 10-minute windows (core/audio.py);
- whole file: faster-whisper given the path, which decodes the whole file first, as Loupe did before. Run only
  up to --whole-up-to-h hours (default 2): at 8 hours it needs several GB.
The words found by both are counted, so a window cut that lost speech would show.

Uploads. `streamlit run server.py` in a subprocess; headless chromium selects --upload-files WAV files of
--upload-mb MB each on the Upload page and presses Ingest; the figure is the server's peak resident memory
(VmHWM) above its peak before the upload, and what it still holds (VmRSS) once the ingest job is done. Then
three browser sessions open the Transcripts page on one of those WAVs: what the server holds more with them open.

Run: .venv/bin/python bench/bench_memory.py [--hours 0.1667,1,2,8] [--whole-up-to-h 2] [--upload-mb 100]
     [--upload-files 3] [--skip-upload] [--skip-transcription]
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import wave  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCE = "The quick brown fox jumps over the lazy dog. Machine learning transcribes the speech."
BLOCK_S = 300  # one sentence every 5 minutes

_TRANSCRIBE = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from core.transcribers import TranscriberConfig, load_transcriber

def hwm_mb():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024

mode, path = sys.argv[1], Path(sys.argv[2])
transcriber = load_transcriber(TranscriberConfig(model="tiny.en", cache_dir=Path(sys.argv[4])))
model = transcriber.model()
after_load = hwm_mb()
start = time.perf_counter()
if mode == "windowed":
    words = len(transcriber.transcribe(path, language="en").words)
else:
    segments, _ = model.transcribe(str(path), language="en", beam_size=5, vad_filter=True, word_timestamps=True)
    words = sum(len([w for w in s.words or () if w.word.strip()]) for s in segments)
print(json.dumps({"after_load_mb": after_load, "peak_mb": hwm_mb(), "words": words,
                  "seconds": time.perf_counter() - start}))
"""


def make_long_audio(folder: Path, hours: float) -> Path:
    """hours of 16 kHz mono FLAC: a spoken sentence at the start of every 5-minute block, silence otherwise."""
    speech, block = folder / "speech.wav", folder / "block.flac"
    if not block.exists():
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(speech), SENTENCE], check=True)
        with wave.open(str(speech)) as w:
            speech_s = w.getnframes() / w.getframerate()
        subprocess.run(["sox", str(speech), "-r", "16000", "-c", "1", str(block), "pad", "1",
                        f"{BLOCK_S - 1 - speech_s:.3f}"], check=True)
    blocks = max(1, round(hours * 3600 / BLOCK_S))
    out = folder / f"{blocks * BLOCK_S // 60}min.flac"
    if not out.exists():
        subprocess.run(["sox", str(block), str(out), "repeat", str(blocks - 1)], check=True)
    return out


def transcribe_in_child(mode: str, path: Path, cache_dir: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", _TRANSCRIBE, mode, str(path), str(ROOT), str(cache_dir)],
                         capture_output=True, text=True, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    if run.returncode != 0:
        return {"error": (run.stderr.strip().splitlines() or ["?"])[-1], "returncode": run.returncode}
    return json.loads(run.stdout.strip().splitlines()[-1])


def bench_transcription(folder: Path, hours_list: list[float], whole_up_to_h: float) -> list[dict]:
    rows = []
    for hours in hours_list:
        path = make_long_audio(folder, hours)
        row = {"hours": hours, "file_mb": path.stat().st_size / 1e6}
        row["windowed"] = transcribe_in_child("windowed", path, folder / "models")
        if hours <= whole_up_to_h + 1e-9:
            row["whole"] = transcribe_in_child("whole", path, folder / "models")
        rows.append(row)
        _print_transcription_row(row)
    return rows


def _print_transcription_row(row: dict) -> None:
    def cell(result: dict | None) -> str:
        if result is None:
            return "not run"
        if "error" in result:
            return f"failed ({result['error']})"
        rise_mb = result["peak_mb"] - result["after_load_mb"]
        return (f"peak {result['peak_mb']:6.0f} MB (+{rise_mb:5.0f} MB over the loaded "
                f"model), {result['words']} words, {result['seconds']:.0f} s")

    sys.stdout.write(f"{row['hours'] * 60:6.0f} min ({row['file_mb']:.1f} MB FLAC)  windowed: {cell(row['windowed'])}\n"
                     f"{'':27}whole file: {cell(row.get('whole'))}\n")
    sys.stdout.flush()


# ---- uploads ---------------------------------------------------------------------------------------------------
def _status_mb(pid: int, field: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) / 1024


def make_wav_of_size(path: Path, megabytes: float, seed: int) -> Path:
    """A valid WAV of about `megabytes` MB (16 kHz mono; low noise, different per seed so none is a duplicate)."""
    import numpy as np

    frames = int(megabytes * 1e6 / 2)
    rng = np.random.default_rng(seed)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        chunk = 16000 * 60
        for start in range(0, frames, chunk):
            w.writeframes(rng.integers(-200, 200, min(chunk, frames - start), dtype=np.int16).tobytes())
    return path


def bench_upload(folder: Path, files: int, megabytes: float) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app, wait_for_app

    paths = [make_wav_of_size(folder / f"upload-{i}.wav", megabytes, i) for i in range(files)]
    app = start_app(folder / "upload-data", folder / "server.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page()
            page.set_default_timeout(600_000)
            page.goto(f"{app.url}/upload")
            wait_for_app(page)
            _upload(page, [make_wav_of_size(folder / "warm-up.wav", 0.1, 99)])  # loads the ingest code once
            page.get_by_text("ingested: 1").first.wait_for()
            time.sleep(1)
            before_mb = _status_mb(app.process.pid, "VmHWM")
            start = time.perf_counter()
            _upload(page, paths)
            page.get_by_text(f"ingested: {files}").first.wait_for()
            seconds = time.perf_counter() - start
            peak_mb = _status_mb(app.process.pid, "VmHWM")
            time.sleep(2)
            held_mb = _status_mb(app.process.pid, "VmRSS")
            players = _player_sessions(browser, app, folder / "upload-data", sessions=3)
            browser.close()
    finally:
        stop_app(app)
    result = {"files": files, "file_mb": megabytes, "before_peak_mb": before_mb, "peak_mb": peak_mb,
              "held_after_mb": held_mb, "seconds": seconds, "players": players}
    batch = files * megabytes
    sys.stdout.write(f"upload of {files} x {megabytes:.0f} MB WAV ({batch:.0f} MB): server peak {peak_mb:.0f} MB, "
                     f"{peak_mb - before_mb:+.0f} MB over its peak before ({(peak_mb - before_mb) / batch:.2f}x the "
                     f"batch); holds {held_mb:.0f} MB once ingested; {seconds:.0f} s\n"
                     f"Transcripts player on one {megabytes:.0f} MB WAV in {players['sessions']} sessions: "
                     "server holds "
                     f"{players['after_mb'] - players['before_mb']:+.0f} MB more (VmRSS {players['before_mb']:.0f} -> "
                     f"{players['after_mb']:.0f} MB)\n")
    return result


def _player_sessions(browser, app, data_dir: Path, sessions: int) -> dict:
    """Open the Transcripts page on one uploaded WAV in several browser sessions; the server's memory before/after."""
    from core.config import Config
    from core.domain import Segment, Transcript, Word
    from core.service import Service

    service = Service(Config(data_dir=data_dir), start_jobs=False)
    item = max((i for i in service.catalog.list() if i.kind == "audio"), key=lambda i: i.size_bytes)
    service.transcripts.save_model_transcript(item.media_id, Transcript(item.media_id, segments=(
        Segment(0.0, 1.0, "hello", (Word("hello", 0.0, 1.0, 0.5),)),), language="en", model_version="bench"))
    service.close()
    time.sleep(1)
    before_mb = _status_mb(app.process.pid, "VmRSS")
    pages = []
    for _ in range(sessions):
        page = browser.new_context().new_page()
        page.set_default_timeout(600_000)
        page.goto(f"{app.url}/transcript?media={item.media_id}")
        page.locator("audio").wait_for(state="attached")
        page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
        pages.append(page)
    time.sleep(2)
    after_mb = _status_mb(app.process.pid, "VmRSS")
    for page in pages:
        page.context.close()
    return {"sessions": sessions, "file_mb": item.size_bytes / 1e6, "before_mb": before_mb, "after_mb": after_mb}


def _upload(page, paths: list[Path]) -> None:
    """Select the files on the Upload page, wait until all have reached the server, and press Ingest."""
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([str(p) for p in paths])
    page.get_by_text(paths[-1].name).first.wait_for()
    page.wait_for_function(  # every file has reached the server (no progress bar left)
        "() => !document.querySelector('[data-testid=\"stFileUploaderFile\"] [role=\"progressbar\"]')")
    page.get_by_role("button", name="Ingest").click()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", default="0.1667,1,2,8")
    parser.add_argument("--whole-up-to-h", type=float, default=2.0)
    parser.add_argument("--upload-mb", type=float, default=100.0)
    parser.add_argument("--upload-files", type=int, default=3)
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--skip-transcription", action="store_true")
    args = parser.parse_args()
    hours_list = [float(h) for h in args.hours.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sys.stdout.write(f"transcription: tiny.en int8, VAD, 10-minute windows; a sentence every {BLOCK_S // 60} min; "
                         f"{os.cpu_count()} CPUs\n")
        rows = [] if args.skip_transcription else bench_transcription(folder, hours_list, args.whole_up_to_h)
        upload = None if args.skip_upload else bench_upload(folder, args.upload_files, args.upload_mb)
    windowed = [r["windowed"]["peak_mb"] for r in rows if "peak_mb" in r["windowed"]]
    if len(windowed) > 1:
        sys.stdout.write(f"windowed peak from {hours_list[0] * 60:.0f} min to {hours_list[-1] * 60:.0f} min: "
                         f"{min(windowed):.0f} to {max(windowed):.0f} MB ({max(windowed) / min(windowed):.2f}x)\n")
    sys.stdout.write(json.dumps({"transcription": rows, "upload": upload}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
