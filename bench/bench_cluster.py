"""Model work on Dask: throughput of a label job and of two transcription jobs on three executors, and the app
process's memory while a long transcription runs on a worker. Every issue-16 figure, in one run, on this machine.

Executors (each a fresh Service on a local store with the same media, all with the default sizing of
core/cluster.py: a worker's model threads are the CPUs shared among the workers):
- in-process: LOUPE_DASK=off, the chunks run on the app's job thread (the models with their default threads);
- cluster, 1 worker: a local Dask cluster of one worker process (on 2 CPUs: 2 model threads);
- cluster, 2 workers: two worker processes (on 2 CPUs: 1 model thread each);
- in-process, 1 thread: LOUPE_MODEL_THREADS=1, one image at a time, one core's worth (labels only);
- cluster, 1 worker x 1 thread: what one of those two workers does alone, on one core (labels only).
Whisper runs on one thread everywhere (LOUPE_TRANSCRIBER_THREADS, core/config.py), so a worker transcribes on one
core. For labels, on 2 CPUs the first two already use both cores (two images at once), so a second worker can add
nothing there; how label throughput grows with workers is measured per core: 2 workers against one 1-thread worker,
and a 1-thread worker against the app on one thread (the overhead of the cluster at the same cores). Both pairs print.
One executor at a time (the others' idle clusters would take CPU from it): started and warmed first (models loaded in
every worker, outside the timings), then timed: a label job of N photos; a transcription job of M one-minute
espeak-ng clips (one chunk per clip); and a transcription job of one M-minute file (those clips joined: one chunk per
5-minute window, so one file spreads over the workers). The best run of each counts.

Memory: a separate process plays the app (Service with a 1-worker local cluster), warms its worker, then
transcribes H hours of mostly silent speech (one sentence every 5 minutes, as bench_memory.py) on the worker; its
resident memory (VmRSS) is sampled every 0.25 s, and the figure is the peak during the job above the idle peak before.

Run (every figure; about 15 minutes on an idle 2-core machine):
    .venv/bin/python bench/bench_cluster.py
Quick check that it works (about 3 minutes; the figures only show direction):
    .venv/bin/python bench/bench_cluster.py --quick
Options: [--images 200] [--minutes 10] [--hours 2] [--rounds 2] [--transcribe-rounds 1] [--window-s 300]
[--skip-memory] [--only-memory]; --quick is 40 photos, 2 clips, 60-second windows (so the 2-minute file still
spreads), 15 minutes of audio for memory, one round, and no one-thread executors.
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
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_labeling import make_photos  # noqa: E402
from bench_memory import make_long_audio  # noqa: E402
from bench_transcription import SENTENCES  # noqa: E402

from core.config import Config  # noqa: E402
from core.service import Service  # noqa: E402

EXECUTORS = {  # name -> Config fields
    "in-process": {"dask": "off"},
    "cluster, 1 worker": {"dask": "local", "dask_workers": 1},
    "cluster, 2 workers": {"dask": "local", "dask_workers": 2},
    "in-process, 1 thread": {"dask": "off", "model_threads": 1},
    "cluster, 1 worker x 1 thread": {"dask": "local", "dask_workers": 1, "model_threads": 1},
}
PER_CORE = ("in-process, 1 thread", "cluster, 1 worker x 1 thread")
QUICK = {"images": 40, "minutes": 2, "hours": 0.25, "rounds": 1, "transcribe_rounds": 1, "window_s": 60}
TARGET_OVERHEAD_X = 1.15
TARGET_SCALING_X = 1.6
TARGET_MEMORY_MB = 50

APP = r"""
import json, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from core.config import Config
from core.service import Service

def rss_mb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024

service = Service(Config(data_dir=Path(sys.argv[2]), dask="local", dask_workers=1))
warm, long = service.catalog.ingest_file(Path(sys.argv[3])), service.catalog.ingest_file(Path(sys.argv[4]))
assert service.jobs.wait(service.transcription.submit([warm.media_id]).job_id, 600).status == "succeeded"
idle = []
for _ in range(20):  # 5 s idle, the cluster up and its worker warm
    idle.append(rss_mb())
    time.sleep(0.25)
samples, start = [], time.perf_counter()
job = service.transcription.submit([long.media_id])
while not service.jobs.get(job.job_id).is_finished:
    samples.append(rss_mb())
    time.sleep(0.25)
finished = service.jobs.get(job.job_id)
words = len(service.transcripts.latest(long.media_id).transcript.words) if finished.status == "succeeded" else 0
print(json.dumps({"idle_peak_mb": max(idle), "job_peak_mb": max(samples + [rss_mb()]), "job_s":
                  time.perf_counter() - start, "status": finished.status, "error": finished.error, "words": words,
                  "models_in_app": len(service.models._models)}))
service.close()
"""


def make_clips(folder: Path, count: int) -> list[Path]:
    """count one-minute espeak-ng clips, each a different order of the sentences (so each is its own media item)."""
    clips = []
    for n in range(count):
        order = SENTENCES[n % len(SENTENCES):] + SENTENCES[:n % len(SENTENCES)]
        words, text = 0, []
        while words < 150:  # about a minute at 150 words a minute
            sentence = order[len(text) % len(order)]
            text.append(sentence)
            words += len(sentence.split())
        clip = folder / f"clip-{n:02d}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(clip), f"Clip {n}. " + " ".join(text)],
                       check=True)
        clips.append(clip)
    return clips


def join_clips(folder: Path, clips: list[Path]) -> Path:
    """One file of the clips one after another (sox): a long recording to spread over the workers."""
    joined = folder / f"joined-{len(clips)}-clips.wav"
    subprocess.run(["sox", *map(str, clips), str(joined)], check=True)
    return joined


def timed_job(service: Service, submit) -> float:
    start = time.perf_counter()
    job = service.jobs.wait(submit().job_id, 3600)
    if job.status != "succeeded":
        raise SystemExit(f"a {job.kind} job {job.status}: {job.error}")
    failed = job.result.get("failed") or job.result.get("counts", {}).get("failed")
    if failed:
        raise SystemExit(f"a {job.kind} job failed {failed} item(s): {job.result['outcomes'][:3]}")
    return time.perf_counter() - start


def open_executor(name: str, fields: dict, folder: Path, photos: list[Path], clips: list[Path],
                  joined: Path, *, labels_only: bool = False) -> dict:
    """A service on its own executor, with the media ingested and every worker warm (models loaded)."""
    config = Config(data_dir=folder / name.replace(" ", "-").replace(",", ""), **fields)
    log_executor(name, config)
    service = Service(config)
    images = [service.catalog.ingest_file(p).media_id for p in photos]
    audio = [] if labels_only else [service.catalog.ingest_file(c).media_id for c in clips]
    long = "" if labels_only else service.catalog.ingest_file(joined).media_id
    workers = max(1, fields.get("dask_workers", 1))
    timed_job(service, lambda: service.labeling.submit(images[:8 * workers]))
    if not labels_only:
        timed_job(service, lambda: service.transcription.submit(audio[:workers], force=True))
    return {"service": service, "images": images, "audio": audio, "long": long, "label_s": [], "transcribe_s": [],
            "file_s": []}


def log_executor(name: str, config: Config) -> None:
    from core.cluster import local_cluster_size

    if config.runs_on_dask:
        workers, threads = local_cluster_size(config)
        print(f"  {name}: {workers} worker process(es), {threads} model thread(s) each (the labeler labels that many "
              f"images at once; Whisper on {config.transcriber_threads}); windows of {config.transcribe_window_s} s",
              flush=True)
    else:
        threads = f"{config.model_threads} model thread(s)" if config.model_threads else "the models' default threads"
        print(f"  {name}: the app's job thread, {threads}; windows of {config.transcribe_window_s} s", flush=True)


def report(name: str, run: dict, photos: int, audio_s: float) -> dict:
    nan = float("nan")
    label_s, transcribe_s, file_s = min(run["label_s"]), min(run["transcribe_s"] or [nan]), min(run["file_s"] or [nan])
    row = {"executor": name, "label_s": round(label_s, 2), "images_per_s": round(photos / label_s, 1),
           "transcribe_s": round(transcribe_s, 2), "audio_s_per_s": round(audio_s / transcribe_s, 1),
           "file_s": round(file_s, 2), "file_audio_s_per_s": round(audio_s / file_s, 1),
           "label_runs_s": [round(x, 2) for x in run["label_s"]],
           "transcribe_runs_s": [round(x, 2) for x in run["transcribe_s"]],
           "file_runs_s": [round(x, 2) for x in run["file_s"]]}
    print(f"  {name:30s} label {row['label_s']:7.2f} s ({row['images_per_s']:5.1f} images/s)   clips "
          f"{row['transcribe_s']:7.2f} s ({row['audio_s_per_s']:5.1f} s of audio per s)   one file "
          f"{row['file_s']:7.2f} s ({row['file_audio_s_per_s']:5.1f})   runs: {row['label_runs_s']} / "
          f"{row['transcribe_runs_s']} / {row['file_runs_s']}", flush=True)
    return row


def audio_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


def bench_app_memory(folder: Path, hours: float, warm_clip: Path) -> dict:
    long = make_long_audio(folder, hours)
    run = subprocess.run([sys.executable, "-c", APP, str(ROOT), str(folder / "memory-data"), str(warm_clip),
                          str(long)], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"the memory probe failed: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _print_memory(memory: dict, hours: float) -> None:
    rise = memory["job_peak_mb"] - memory["idle_peak_mb"]
    print(f"app process while {hours:g} h transcribe on a worker ({memory['job_s']:.0f} s, {memory['words']} "
          f"words, {memory['status']}): idle peak {memory['idle_peak_mb']:.0f} MB, peak during the job "
          f"{memory['job_peak_mb']:.0f} MB, rise {rise:+.0f} MB (target <= {TARGET_MEMORY_MB} MB: "
          f"{'met' if rise <= TARGET_MEMORY_MB else 'NOT met'}); models loaded in the app: {memory['models_in_app']}")


def _compare(what: str, ratio: float, target: float, unit: str, *, le: bool = False) -> None:
    met = ratio <= target if le else ratio >= target
    print(f"  {what}: {ratio:.2f}{unit} (target {'<=' if le else '>='} {target}: {'met' if met else 'NOT met'})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--transcribe-rounds", type=int, default=1)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--only-memory", action="store_true")
    parser.add_argument("--window-s", type=int, default=0, help="LOUPE_TRANSCRIBE_WINDOW_S for every executor "
                        "(0: the default, 300)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one round, no one-thread executors: "
                        f"{QUICK}")
    args = parser.parse_args()
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    window = {"transcribe_window_s": args.window_s} if args.window_s else {}
    executors = {k: {**v, **window} for k, v in EXECUTORS.items()
                 if not (args.quick and k in PER_CORE)}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "photos").mkdir()
        photos = make_photos(folder / "photos", args.images)
        clips = make_clips(folder, args.minutes)
        joined = join_clips(folder, clips)
        audio_s = audio_seconds(joined)
        print(f"{args.images} photos, {args.minutes} one-minute clips and one {audio_s:.0f} s file on "
              f"{os.cpu_count()} CPUs (1-min load average {os.getloadavg()[0]:.1f}); best of {args.rounds} label and "
              f"{args.transcribe_rounds} transcription runs, one executor at a time", flush=True)
        if args.only_memory:
            memory = bench_app_memory(folder, args.hours, clips[0])
            _print_memory(memory, args.hours)
            print(json.dumps({"memory": memory, "cpus": os.cpu_count()}))
            return 0
        runs = {}
        for name, fields in executors.items():  # one at a time: the others' idle clusters would take CPU from it
            run = runs[name] = open_executor(name, fields, folder, photos, clips, joined, labels_only=name in PER_CORE)
            service = run["service"]
            try:
                for _ in range(args.rounds):
                    run["label_s"].append(timed_job(service, lambda s=service, r=run: s.labeling.submit(r["images"])))
                for _ in range(0 if name in PER_CORE else args.transcribe_rounds):
                    run["transcribe_s"].append(timed_job(
                        service, lambda s=service, r=run: s.transcription.submit(r["audio"], force=True)))
                    run["file_s"].append(timed_job(
                        service, lambda s=service, r=run: s.transcription.submit([r["long"]], force=True)))
            finally:
                service.close()
        rows = {name: report(name, run, args.images, audio_s) for name, run in runs.items()}
        memory = None if args.skip_memory else bench_app_memory(folder, args.hours, clips[0])
    base, one, two = rows["in-process"], rows["cluster, 1 worker"], rows["cluster, 2 workers"]
    base1, single = rows.get("in-process, 1 thread"), rows.get("cluster, 1 worker x 1 thread")
    for what, key in (("label", "label_s"), ("transcription, clips", "transcribe_s"),
                      ("transcription, one file", "file_s")):
        print(f"{what}:")
        _compare("1 worker vs in-process, default threads", one[key] / base[key], TARGET_OVERHEAD_X, "x time", le=True)
        if single and key == "label_s":
            _compare("1-thread worker vs in-process on 1 thread", single[key] / base1[key], TARGET_OVERHEAD_X,
                     "x time", le=True)
            _compare("2 workers vs one 1-thread worker (scaling per core)", single[key] / two[key],
                     TARGET_SCALING_X, "x throughput")
        _compare("2 workers vs 1 worker with both cores' threads", one[key] / two[key], TARGET_SCALING_X,
                 "x throughput")
    if memory:
        _print_memory(memory, args.hours)
    print(f"(the whole run took {time.perf_counter() - started:.0f} s; 1-min load average now "
          f"{os.getloadavg()[0]:.1f})")
    print(json.dumps({"rows": list(rows.values()), "memory": memory, "cpus": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
