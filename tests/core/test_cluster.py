"""Model work on a real Dask cluster (scheduler and workers as processes on loopback) with the team store (DynamoDB
and S3 on moto_server): chunks, a worker killed mid-job, the app killed mid-job, an item over the memory limit."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from core.cluster import done_chunks
from core.config import Config
from core.jobs import KIND as JOB_KIND
from core.service import Service
from tests.dask_cluster import ROOT, shared_scheduler, start_cluster, wait_for, worker_pids
from tests.dynamodb_servers import team_config
from tests.job_records import work_records
from tests.media_factory import make_image
from tests.speech import make_sparse_speech, make_speech_wav

pytestmark = [pytest.mark.timeout(300), pytest.mark.cluster]


def _team_on(cluster_address: str, tmp_path: Path, chunk_images: int = 32) -> Config:
    return replace(team_config(tmp_path / "data"), dask_scheduler=cluster_address, dask_chunk_images=chunk_images)


def _ingest_images(service: Service, folder: Path, count: int, *, size: tuple[int, int] = (64, 48)) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    return [service.catalog.ingest_file(make_image(folder / f"img-{n:03d}.png", size=size, seed=n)).media_id
            for n in range(count)]


@pytest.fixture
def scheduler() -> str:
    address = shared_scheduler()
    from distributed import Client

    with Client(address, timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(2, timeout=90)  # a worker killed by an earlier test is back
    return address


def test_a_label_job_of_200_images_runs_in_chunks_on_the_workers_not_in_the_app(scheduler, tmp_path):
    with Service(_team_on(scheduler, tmp_path)) as service:
        ids = _ingest_images(service, tmp_path / "in", 200)
        job = service.jobs.wait(service.labeling.submit(ids).job_id, 240)
        assert job.status == "succeeded", job.error
        assert (job.result["labeled"], job.result["failed"], job.done, job.total) == (200, 0, 200, 200)
        chunks = job.result["chunks"]  # what the chunk records said, kept once they are gone with the job's end
        assert (chunks["count"], chunks["ran_again"]) == (7, [])  # 200 images in chunks of 32
        assert chunks["where"] and all(w.startswith("tcp://127.0.0.1:") for w in chunks["where"])  # on the workers
        assert work_records(service.records, job.job_id) == []
        assert service.predictions.count() == 200
        assert {service.catalog.get(i).status for i in ids} == {"labeled"}
        assert not service.models._models  # the app process loaded no model


def test_three_clips_are_transcribed_on_the_workers_once_each(scheduler, tmp_path):
    with Service(_team_on(scheduler, tmp_path)) as service:
        clips = [make_speech_wav(tmp_path / f"clip-{n}.wav", text) for n, text in enumerate(
            ("The quick brown fox jumps over the lazy dog.", "Machine learning transcribes the speech.",
             "A person checks the words of the fox."))]
        ids = [service.catalog.ingest_file(c).media_id for c in clips]
        job = service.jobs.wait(service.transcription.submit(ids, force=True).job_id, 240)
        assert job.status == "succeeded", job.error
        assert job.result["counts"] == {"transcribed": 3}
        assert [service.transcripts.latest_number(i) for i in ids] == [1, 1, 1]  # one version each for this run
        assert "fox" in service.transcripts.latest(ids[0]).transcript.text.lower()
        assert job.result["chunks"]["count"] == 3 and work_records(service.records, job.job_id) == []
        assert not service.models._models


IN_PROCESS = """
import json, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from core.config import Config
from core.service import Service
with Service(Config(data_dir=Path({data!r}), transcribe_window_s=30, model_threads=1)) as service:
    media_id = service.catalog.ingest_file(Path({clip!r})).media_id
    job = service.jobs.wait(service.transcription.submit([media_id]).job_id, 240)
    assert job.status == "succeeded", job.error
    print(json.dumps([[w.text, w.start_s] for w in service.transcripts.latest(media_id).transcript.words]))
"""


def _transcribed_in_process(clip: Path, data: Path) -> list[tuple[str, float]]:
    """The words of a LOUPE_DASK=off job, in a process with the workers' OMP_NUM_THREADS (Dask's nanny sets 1):
    CTranslate2's int8 sums, and so now and then a word, differ with it."""
    run = subprocess.run([sys.executable, "-c", IN_PROCESS.format(root=str(ROOT), data=str(data), clip=str(clip))],
                         cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"},
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    return [(text, start_s) for text, start_s in json.loads(run.stdout.strip().splitlines()[-1])]


def test_a_long_file_spreads_its_windows_over_the_workers_and_a_killed_worker_duplicates_none(scheduler, tmp_path):
    from distributed import Client

    clip = make_sparse_speech(tmp_path, 6, every_s=20)  # 6 minutes, a sentence every 20 s: 13 windows of 30 s
    expected = _transcribed_in_process(clip, tmp_path / "here")
    with Service(replace(_team_on(scheduler, tmp_path), transcribe_window_s=30)) as service, \
            Client(scheduler, timeout="30s", set_as_default=False) as client:
        media_id = service.catalog.ingest_file(clip).media_id
        job = service.transcription.submit([media_id], force=True)
        wait_for(lambda: done_chunks(service.records, job.job_id), "the first window to be done")

        def busy_worker() -> str | None:
            return next((addr for addr, keys in client.processing().items() if keys), None)

        os.kill(worker_pids(client)[wait_for(busy_worker, "a worker on a window")], signal.SIGKILL)
        job = service.jobs.wait(job.job_id, 240)
        assert job.status == "succeeded", job.error
        assert job.result["counts"] == {"transcribed": 1}
        chunks = job.result["chunks"]
        assert chunks["count"] == 13  # 360.001 s in windows of 30 s
        assert len(chunks["where"]) >= 2  # the windows of one file ran on several workers
        assert work_records(service.records, job.job_id) == []
        assert service.transcripts.latest_number(media_id) == 1  # one version for the run, assembled once
        words = [(w.text, w.start_s) for w in service.transcripts.latest(media_id).transcript.words]
        assert [w for w, _ in words] == [w for w, _ in expected]  # no window lost or doubled, as in-process
        assert [t for _, t in words] == pytest.approx([t for _, t in expected], abs=0.05)
        assert not list(service.records.query("transcript_window"))  # the windows' words live on in the version
        assert not service.models._models


def test_a_multilingual_long_files_windows_all_take_the_language_decided_once_on_a_worker(scheduler, tmp_path):
    from core.transcription import LANGUAGE_KIND
    from tests.speech import make_two_language_speech

    clip = make_two_language_speech(tmp_path)  # German to 24 s, English from 40 s: 3 windows of 20 s
    with Service(replace(_team_on(scheduler, tmp_path), transcriber="base", transcribe_window_s=20)) as service:
        media_id = service.catalog.ingest_file(clip).media_id
        job = service.jobs.wait(service.transcription.submit([media_id], force=True).job_id, 240)
        assert job.status == "succeeded", job.error
        assert job.result["counts"] == {"transcribed": 1}
        assert job.result["chunks"]["count"] == 3
        assert all(where.startswith("tcp://127.0.0.1:") for where in job.result["chunks"]["where"])
        assert job.result["outcomes"][0]["window_languages"] == ["de", "de", "de"]
        assert service.transcripts.latest(media_id).transcript.language == "de"
        assert not list(service.records.query(LANGUAGE_KIND))
        assert not service.models._models  # the language was decided on a worker too


def test_a_worker_killed_mid_job_loses_nothing_and_labels_every_image_exactly_once(scheduler, tmp_path):
    from distributed import Client

    with Service(_team_on(scheduler, tmp_path, chunk_images=8)) as service, \
            Client(scheduler, timeout="30s", set_as_default=False) as client:
        ids = _ingest_images(service, tmp_path / "in", 96)
        job = service.labeling.submit(ids)
        wait_for(lambda: done_chunks(service.records, job.job_id), "the first chunk to be done")

        def busy_worker() -> str | None:
            return next((addr for addr, keys in client.processing().items() if keys), None)

        victim = wait_for(busy_worker, "a worker running a chunk")
        os.kill(worker_pids(client)[victim], signal.SIGKILL)
        job = service.jobs.wait(job.job_id, 240)
        assert job.status == "succeeded", job.error
        labeled = Counter(o["media_id"] for o in job.result["outcomes"] if o["status"] == "labeled")
        assert labeled == Counter(ids)  # every image once, none lost, none twice
        assert job.result["chunks"]["count"] == 12 and work_records(service.records, job.job_id) == []
        assert service.predictions.count() == 96


APP = """
import sys, time
sys.path.insert(0, {root!r})
from core.config import Config
from core.service import Service
service = Service(Config(**{config!r}))
print(service.labeling.submit(None).job_id, flush=True)
time.sleep(600)
"""


def test_an_app_killed_mid_job_resumes_on_restart_without_running_finished_chunks_again(scheduler, tmp_path):
    config = _team_on(scheduler, tmp_path, chunk_images=8)
    fields = {"data_dir": str(config.data_dir), "store": "dynamodb", "dynamodb_table": config.dynamodb_table,
              "s3_bucket": config.s3_bucket, "dask_scheduler": scheduler, "dask_chunk_images": 8}
    with Service(config, start_jobs=False) as setup:
        ids = _ingest_images(setup, tmp_path / "in", 96)
        records = setup.records
        app = subprocess.Popen([sys.executable, "-c", APP.format(root=str(ROOT), config=fields)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
        try:
            job_id = app.stdout.readline().strip()
            wait_for(lambda: len(done_chunks(records, job_id)) >= 2, "two chunks to be done")
        finally:
            app.kill()
            app.wait()
        before = done_chunks(records, job_id)
        assert 2 <= len(before) < 12
        rec = records.get(JOB_KIND, job_id)  # the restart comes after the heartbeat went stale
        assert rec.body["status"] == "running"
        records.put(JOB_KIND, job_id, {**rec.body, "heartbeat_at": 0.0}, expected_version=rec.version)
    with Service(config) as service:  # the restarted app: it recovers the job at start
        job = service.jobs.wait(job_id, 240)
        assert job.status == "succeeded", job.error
        assert job.result["labeled"] == 96 and job.done == 96
        assert job.result["chunks"]["count"] == 12
        assert not set(before) & set(job.result["chunks"]["ran_again"])  # finished before the kill: not run again
        assert service.predictions.count() == len(ids)
        assert work_records(service.records, job_id) == []  # the job is final: its work records went with it


def test_an_image_that_blows_the_memory_limit_fails_alone_with_the_reason(tmp_path):
    cluster = start_cluster(2, memory_limit="700MiB", preload="tests.cluster_hog")
    try:
        with Service(_team_on(cluster.address, tmp_path, chunk_images=4)) as service:
            ids = _ingest_images(service, tmp_path / "in", 6)
            hog = service.catalog.ingest_file(make_image(tmp_path / "hog.png", size=(99, 99))).media_id
            ids.insert(1, hog)  # in the first chunk, with three others
            job = service.jobs.wait(service.labeling.submit(ids, backend="hog").job_id, 240)
            assert job.status == "succeeded", job.error
            outcomes = {o["media_id"]: o for o in job.result["outcomes"]}
            assert (job.result["labeled"], job.result["failed"]) == (6, 1)
            assert outcomes[hog]["status"] == "failed"
            assert "memory limit" in outcomes[hog]["reason"]
            assert service.predictions.get(hog) is None
            assert all(service.predictions.get(i) for i in ids if i != hog)
    finally:
        cluster.stop()


def test_the_demo_labels_and_transcribes_on_the_workers(scheduler, tmp_path):
    with Service(_team_on(scheduler, tmp_path)) as service:
        job = service.jobs.wait(service.load_demo().job_id, 240)
        assert job.status == "succeeded", job.error
        assert job.result["labeled"] >= 1 and job.result["transcribed"] >= 1
        assert work_records(service.records, job.job_id) == []  # its label and speech chunks went with its end
        assert not service.models._models


def test_a_job_whose_scheduler_died_goes_on_when_a_scheduler_is_back_without_running_finished_chunks(tmp_path):
    cluster = start_cluster(2)
    port = int(cluster.address.rsplit(":", 1)[1])
    try:
        with Service(_team_on(cluster.address, tmp_path, chunk_images=8)) as service:
            ids = _ingest_images(service, tmp_path / "in", 64)
            job = service.labeling.submit(ids)
            before = wait_for(lambda: done_chunks(service.records, job.job_id), "the first chunk to be done")
            cluster.kill()
            cluster = start_cluster(2, port=port)  # a supervisor starts them again, at the same address
            job = service.jobs.wait(job.job_id, 240)
            assert job.status == "succeeded", job.error
            assert job.result["labeled"] == 64 and job.result["chunks"]["count"] == 8
            assert not set(before) & set(job.result["chunks"]["ran_again"])  # done before the scheduler died
            assert work_records(service.records, job.job_id) == []
    finally:
        cluster.stop()


def test_a_scheduler_that_never_answers_is_reported_without_the_caller_waiting_on_it(tmp_path):
    import socket

    from core.cluster import DaskCluster

    with socket.socket() as silent:  # takes TCP connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        cluster = DaskCluster(Config(data_dir=tmp_path, dask_scheduler=f"tcp://127.0.0.1:{silent.getsockname()[1]}"))
        try:
            first = cluster.health()  # the probe is still waiting on the scheduler: the caller is not
            assert not first.ok and "Looking for the Dask scheduler at tcp://127.0.0.1:" in first.message
            told = wait_for(lambda: "can't be reached" in cluster.health().message and cluster.health(), "the probe")
            assert cluster.health() is told  # probed at most every HEALTH_EVERY_S: a second look reads the first
        finally:
            cluster.close()


def test_an_unreachable_scheduler_is_said_in_words_at_the_first_look(tmp_path):
    import socket

    from core.cluster import DaskCluster

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cluster = DaskCluster(Config(data_dir=tmp_path, dask_scheduler=f"tcp://127.0.0.1:{port}"))
    health = cluster.health()
    assert not health.ok and f"the Dask scheduler at tcp://127.0.0.1:{port} can't be reached" in health.message
    cluster.close()


def test_an_every_unlabeled_list_of_over_5000_ids_lives_in_pages_not_in_the_job_record(tmp_path):
    from core.cluster import job_items

    ids = [f"{n:064x}" for n in range(5_100)]  # media ids are sha256 hex: 5,100 of them are 340 KB of JSON
    with Service(team_config(tmp_path / "data"), start_jobs=False) as service:
        def handler(ctx, params):
            chosen = job_items(ctx, service.records, lambda: ids)
            running = service.records.get(JOB_KIND, ctx.job.job_id).body  # what every progress report rewrites

            class Resumed:  # the job taken up again after a restart: its list is read back, never chosen again
                job = replace(ctx.job, result=running["result"])

                def checkpoint(self, result):
                    raise AssertionError("a resumed job chose its items again")

            return {"items": len(chosen), "record_bytes": len(json.dumps(running)), "kept": running["result"],
                    "resumed_same": job_items(Resumed(), service.records, lambda: []) == ids}

        service.jobs.register("plan", handler)
        job = service.jobs.wait(service.jobs.submit("plan").job_id, 120)
        assert job.status == "succeeded", job.error
        assert job.result["items"] == 5_100 and job.result["kept"] == {"item_pages": 11, "items": 5_100}
        assert job.result["record_bytes"] < 4_000  # the job record stays small, whatever the list's length
        assert job.result["resumed_same"] is True
        assert work_records(service.records, job.job_id) == []  # the pages go once the job is final
