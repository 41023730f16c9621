"""A job's work records (chunks done, item pages, window words) live only while the job can resume: a job that ends,
however it ends, leaves none; a job cut short mid-run still resumes from them; a long explicit id list stays out of
the job record; and `python -m core gc` removes what jobs that ended before this left behind.

Model work runs in this process here (LOUPE_DASK=off, the default); tests/core/test_cluster.py runs the same jobs on
a Dask cluster."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from core.aws import AwsConfig, make_client
from core.catalog import records_for
from core.cli import main as cli_main
from core.cluster import CHUNK_KIND, done_chunks, job_items
from core.config import Config
from core.domain import Job, Label, Prediction, as_dict, from_dict
from core.errors import LoupeError
from core.jobs import INLINE_ITEMS, ITEMS_KIND, work_kinds, write_item_pages
from core.jobs import KIND as JOB_KIND
from core.labelers.local import LocalLabeler
from core.service import Service
from core.stores.aws_setup import ensure_table
from core.stores.base import Record
from core.transcription import WINDOW_KIND
from tests.dynamodb_servers import aws_env, endpoint_for, team_config
from tests.job_records import work_records
from tests.media_factory import make_image
from tests.speech import make_sparse_speech, make_speech_wav

LONG_AGO_S = 7200.0


class OneLabel:
    """A labeler that opens each image and gives it one label at once: the 5,100-item job is about the list, not the
    model (the real one takes 6 to 9 ms an image)."""
    name = "one-label"
    model_version = "one-label-1"

    def predict(self, images):
        out = []
        for ref in images:
            with PILImage.open(ref.path) as image:
                image.load()
            out.append(Prediction(ref.media_id, self.model_version, (Label("Thing", 0.9),), source="one-label"))
        return out


@pytest.fixture(scope="module")
def shared_labeler(tmp_path_factory) -> LocalLabeler:
    return LocalLabeler(tmp_path_factory.mktemp("models"))


def _dynalite_config(data_dir: Path, monkeypatch) -> Config:
    url = endpoint_for("dynalite")
    table = f"jobrecs-{uuid.uuid4().hex[:8]}"
    ensure_table(make_client("dynamodb", AwsConfig(endpoint_url=url, region="us-east-1", access_key_id="testing",
                                                   secret_access_key="testing")), table)
    for name, value in aws_env(url).items():
        monkeypatch.setenv(name, value)
    return Config(data_dir=data_dir, store="dynamodb", dynamodb_table=table)


@pytest.fixture(params=["local", "moto", "dynalite"])
def store_config(request, tmp_path, monkeypatch) -> Config:
    if request.param == "moto":
        return team_config(tmp_path / "data")
    if request.param == "dynalite":
        return _dynalite_config(tmp_path / "data", monkeypatch)
    return Config(data_dir=tmp_path / "data")


def _ingest_images(service: Service, folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    return [service.catalog.ingest_file(make_image(folder / f"img-{n}.png", size=(32, 24), seed=n)).media_id
            for n in range(count)]


def test_the_work_kinds_are_the_chunks_the_item_pages_and_the_window_words():
    assert {CHUNK_KIND, ITEMS_KIND, WINDOW_KIND} <= work_kinds()


def test_a_finished_label_job_leaves_no_work_records_and_keeps_its_result(store_config, shared_labeler, tmp_path):
    with Service(replace(store_config, dask_chunk_images=2), labelers={"local": shared_labeler}) as service:
        _ingest_images(service, tmp_path / "in", 3)
        job = service.jobs.wait(service.labeling.submit(None).job_id, 120)  # "every unlabeled": an item page
        assert job.status == "succeeded", job.error
        assert job.result["labeled"] == 3 and len(job.result["outcomes"]) == 3
        assert job.result["chunks"] == {"count": 2, "ran_again": [], "where": ["in-process"]}
        assert work_records(service.records, job.job_id) == []
        assert service.jobs.get(job.job_id).result == job.result  # what the page shows stays


@pytest.mark.parametrize("ending", ["cancelled", "failed"])
def test_a_label_job_that_ends_midway_leaves_no_work_records(store_config, shared_labeler, tmp_path, ending):
    with Service(replace(store_config, dask_chunk_images=1), labelers={"local": shared_labeler}) as service:
        _ingest_images(service, tmp_path / "in", 4)
        seen: list[set[str]] = []

        def halfway(ctx, params: dict[str, Any]) -> dict[str, Any]:
            ids = job_items(ctx, service.records, service.labeling.unlabeled_ids)
            service.labeling.label_in_chunks(ctx, ids[:2], prefix="a-")
            seen.append({kind for kind, _ in work_records(service.records, ctx.job.job_id)})
            if ending == "cancelled":
                service.jobs.cancel(ctx.job.job_id)  # as the Cancel button does, two chunks in
                service.labeling.label_in_chunks(ctx, ids[2:], prefix="b-")
            raise LoupeError("The labeler went away.")

        service.jobs.register("halfway", halfway)
        job = service.jobs.wait(service.jobs.submit("halfway").job_id, 120)
        assert job.status == ending, job.error
        assert seen == [{CHUNK_KIND, ITEMS_KIND}]  # it had work records while it ran
        assert work_records(service.records, job.job_id) == []
        assert service.predictions.count() == 2  # what its finished chunks stored is kept


def test_a_finished_windowed_transcription_leaves_no_work_records(tmp_path):
    clip = make_sparse_speech(tmp_path, 1.5, every_s=20)  # 90 s in windows of 30 s: 3 window chunks or more
    with Service(Config(data_dir=tmp_path / "data", transcribe_window_s=30)) as service:
        media_id = service.catalog.ingest_file(clip).media_id
        job = service.jobs.wait(service.transcription.submit([media_id], force=True).job_id, 240)
        assert job.status == "succeeded", job.error
        assert job.result["counts"] == {"transcribed": 1} and job.result["chunks"]["count"] >= 3
        assert work_records(service.records, job.job_id) == []
        assert service.transcripts.latest_number(media_id) == 1
        assert service.transcription.jobs_for(media_id) == [service.jobs.get(job.job_id)]


def test_a_transcription_cancelled_after_a_windowed_file_leaves_no_work_records(tmp_path):
    clip = make_sparse_speech(tmp_path, 1.0, every_s=20)  # 2 windows of 30 s
    short = make_speech_wav(tmp_path / "short.wav")
    with Service(Config(data_dir=tmp_path / "data", transcribe_window_s=30)) as service:
        long_id, short_id = (service.catalog.ingest_file(p).media_id for p in (clip, short))
        seen: list[int] = []

        def then_cancelled(ctx, params: dict[str, Any]) -> dict[str, Any]:
            service.transcription.transcribe_in_chunks(ctx, [long_id], force=True, prefix="a-")
            seen.append(len(done_chunks(service.records, ctx.job.job_id)))
            service.jobs.cancel(ctx.job.job_id)
            service.transcription.transcribe_in_chunks(ctx, [short_id], force=True, prefix="b-")
            return {}

        service.jobs.register("then-cancelled", then_cancelled)
        job = service.jobs.wait(service.jobs.submit("then-cancelled").job_id, 240)
        assert job.status == "cancelled", job.error
        assert len(seen) == 1 and seen[0] >= 2  # the long file's windows were done and recorded
        assert work_records(service.records, job.job_id) == []
        assert service.transcripts.latest_number(long_id) == 1 and service.transcripts.latest_number(short_id) == 0


class Killed(BaseException):
    """The app process dying mid-job: nothing after it runs, nothing is written."""


class DiesAfterChunks:
    """The runner's context as far as a killed app gets: checkpoints reach the job record, progress is counted, and
    the process dies after `chunks` finished chunks."""

    def __init__(self, records, job_id: str, chunks: int):
        self.records, self.chunks, self._job_id = records, chunks, job_id

    @property
    def job(self) -> Job:
        return from_dict(Job, self.records.get(JOB_KIND, self._job_id).body)

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        if len(done_chunks(self.records, self._job_id)) >= self.chunks:
            raise Killed()

    def is_cancelled(self) -> bool:
        return False

    def check_cancelled(self) -> None:
        pass

    def checkpoint(self, result: dict[str, Any]) -> None:
        rec = self.records.get(JOB_KIND, self._job_id)
        self.records.put(JOB_KIND, self._job_id, {**rec.body, "result": result}, expected_version=rec.version)


def test_a_job_cut_short_mid_run_resumes_without_repeating_chunks_then_drops_its_records(store_config,
                                                                                          shared_labeler, tmp_path):
    config = replace(store_config, dask_chunk_images=2)
    with Service(config, start_jobs=False, labelers={"local": shared_labeler}) as first:
        ids = _ingest_images(first, tmp_path / "in", 6)
        job = Job(job_id="20261201000000-cutshort", kind="label", params={"backend": "local"}, status="running",
                  owner="gone-host:1", heartbeat_at=time.time() - LONG_AGO_S)
        first.records.create(JOB_KIND, job.job_id, as_dict(job))
        with pytest.raises(Killed):
            first.labeling.run_label_job(DiesAfterChunks(first.records, job.job_id, 2), job.params)
        before = done_chunks(first.records, job.job_id)
        assert sorted(before) == ["00000", "00001"]
        assert {kind for kind, _ in work_records(first.records, job.job_id)} == {CHUNK_KIND, ITEMS_KIND}
    with Service(config, labelers={"local": shared_labeler}) as restarted:  # recovers the stale job at start
        done = restarted.jobs.wait(job.job_id, 120)
        assert done.status == "succeeded", done.error
        assert done.result["labeled"] == 6 and sorted(o["media_id"] for o in done.result["outcomes"]) == sorted(ids)
        assert done.result["chunks"] == {"count": 3, "ran_again": [], "where": ["in-process"]}
        assert work_records(restarted.records, job.job_id) == []


def test_a_5100_id_label_list_lives_in_item_pages_the_job_record_stays_small_and_every_id_is_labeled(tmp_path):
    config = replace(team_config(tmp_path / "data"), s3_bucket="", dask_chunk_images=1_000)  # media in local files
    with Service(config, labelers={"one-label": OneLabel()}) as service:
        src = make_image(tmp_path / "tiny.png", size=(8, 8))
        (real,) = _ingest_images(service, tmp_path / "in", 1)
        item = service.catalog.get(real)
        ids = [f"{n:064x}" for n in range(5_100)]  # media ids are sha256 hex: 5,100 of them are 340 KB of JSON
        for media_id in ids:
            service.blobs.put_file(media_id, src)
        service.records.put_many(records_for(replace(item, media_id=media_id, file_name=f"{n}.png",
                                                     status="labeled"))[0] for n, media_id in enumerate(ids))
        submitted = service.labeling.submit(ids, backend="one-label")
        queued_bytes = len(json.dumps(as_dict(submitted)))
        stored_bytes = len(json.dumps(service.records.get(JOB_KIND, submitted.job_id).body))
        assert submitted.params["items"] == 5_100 and submitted.params["item_pages"] == 11
        assert "media_ids" not in submitted.params
        job = service.jobs.wait(submitted.job_id, 300)
        assert job.status == "succeeded", job.error
        assert (job.result["labeled"], job.result["failed"], job.done, job.total) == (5_100, 0, 5_100, 5_100)
        assert len(service.predictions.get_many(ids)) == 5_100
        assert queued_bytes < 1_000 and stored_bytes < 2_000, (queued_bytes, stored_bytes)
        assert len(json.dumps(job.params)) < 300
        assert work_records(service.records, job.job_id) == []


def test_a_short_explicit_list_stays_inline_and_an_old_inline_job_still_runs(tmp_path, shared_labeler):
    with Service(Config(data_dir=tmp_path / "data"), labelers={"local": shared_labeler}) as service:
        ids = _ingest_images(service, tmp_path / "in", 2)
        job = service.jobs.wait(service.labeling.submit(ids).job_id, 120)
        assert job.params["media_ids"] == ids and job.result["labeled"] == 2
        gone = [f"{n:064x}" for n in range(INLINE_ITEMS)]  # an old job's list inline, longer than lists are now
        old = Job(job_id="20261130000000-oldinline", kind="label", params={"backend": "local",
                                                                          "media_ids": [*ids, *gone]},
                  status="running", owner="gone-host:1", heartbeat_at=time.time() - LONG_AGO_S)
        service.records.create(JOB_KIND, old.job_id, as_dict(old))
        assert service.jobs.recover() == [old.job_id]
        resumed = service.jobs.wait(old.job_id, 120)
        assert (resumed.result["labeled"], resumed.result["failed"]) == (2, INLINE_ITEMS)


def test_a_transcription_job_with_a_paged_list_is_found_for_its_items_while_it_runs_and_once_it_ended(tmp_path):
    ids = [f"{n:064x}" for n in range(INLINE_ITEMS + 1)]
    with Service(Config(data_dir=tmp_path / "data"), start_jobs=False) as service:  # nothing runs it here
        job = Job(job_id="20261201000000-paged", kind="transcribe", status="running", heartbeat_at=time.time(),
                  params={"item_pages": write_item_pages(service.records, "20261201000000-paged", ids),
                          "items": len(ids)})
        service.records.create(JOB_KIND, job.job_id, as_dict(job))
        assert [j.job_id for j in service.transcription.jobs_for(ids[-1])] == [job.job_id]  # from its item pages
        assert service.transcription.jobs_for("f" * 64) == []
        rec = service.records.get(JOB_KIND, job.job_id)
        ended = {**rec.body, "status": "failed", "result": {"outcomes": [{"media_id": ids[-1], "status": "failed"}]}}
        service.records.put(JOB_KIND, job.job_id, ended, expected_version=rec.version)
        service.records.delete_many(ITEMS_KIND, [r.key for r in service.records.query(ITEMS_KIND)])  # gone at its end
        assert [j.job_id for j in service.transcription.jobs_for(ids[-1])] == [job.job_id]  # from its outcomes


@pytest.fixture(params=["local", "dynalite"])
def cli_store(request, tmp_path, monkeypatch) -> Config:
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    if request.param == "local":
        monkeypatch.setenv("LOUPE_STORE", "local")
        return Config(data_dir=tmp_path / "data")
    config = _dynalite_config(tmp_path / "data", monkeypatch)
    monkeypatch.setenv("LOUPE_STORE", "dynamodb")
    monkeypatch.setenv("LOUPE_DYNAMODB_TABLE", config.dynamodb_table)
    return config


def test_python_m_core_gc_removes_work_records_of_ended_jobs_and_says_so(cli_store, capsys):
    old = time.time() - LONG_AGO_S
    with Service(cli_store, start_jobs=False) as seeded:
        records = seeded.records
        ended = Job(job_id="20261130000000-ended", kind="label", status="succeeded", result={"labeled": 1})
        running = Job(job_id="20261130000001-running", kind="label", status="running", heartbeat_at=time.time())
        for job in (ended, running):
            records.create(JOB_KIND, job.job_id, as_dict(job))
        records.put_many([
            Record(CHUNK_KIND, f"{ended.job_id}/00000", {"outcomes": [], "runs": 1}, parent=ended.job_id),
            Record(CHUNK_KIND, f"{ended.job_id}/00001", {"outcomes": [], "runs": 1}, parent=ended.job_id),
            Record(ITEMS_KIND, f"{ended.job_id}/00000", {"ids": ["a"]}, parent=ended.job_id),
            Record(WINDOW_KIND, f"{ended.job_id}/{'m' * 64}/00000", {"segments": []},
                   parent=f"{ended.job_id}/{'m' * 64}"),  # a window record as written before its parent was the job
            Record(CHUNK_KIND, f"{running.job_id}/00000", {"outcomes": [], "runs": 1}, parent=running.job_id),
            Record(ITEMS_KIND, "20261130000002-nojob/00000", {"ids": ["b"]}, parent="20261130000002-nojob",
                   updated_at=old),  # a submit that died before its job record: long ago
            Record(ITEMS_KIND, "20261130000003-submitting/00000", {"ids": ["c"]},
                   parent="20261130000003-submitting"),  # a submit writing its pages right now
        ])
    assert cli_main(["gc", "--dry-run", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert (counts["job_work_records"], counts["job_work_jobs"]) == (5, 2)
    assert cli_main(["gc"]) == 0
    out = capsys.readouterr().out
    assert "5 work record(s) (chunks done, item lists, window words) of 2 ended job(s)" in out
    with Service(cli_store, start_jobs=False) as after:
        assert work_records(after.records, ended.job_id) == []
        assert work_records(after.records, "20261130000002-nojob") == []
        assert work_records(after.records, running.job_id) == [(CHUNK_KIND, f"{running.job_id}/00000")]
        assert work_records(after.records, "20261130000003-submitting") == [(ITEMS_KIND,
                                                                             "20261130000003-submitting/00000")]
        assert after.jobs.get(ended.job_id).result == {"labeled": 1}  # the job itself stays
    assert cli_main(["gc", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["job_work_records"] == 0
