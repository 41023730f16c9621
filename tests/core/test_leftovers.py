"""Leftovers of crashes are removed safely, with counts: partial media files, staged uploads no job needs, media
objects and DynamoDB chunk items nothing points at; what a live job or record still needs is kept."""
from __future__ import annotations

import hashlib
import json
import os
import time

from core.cli import main as cli_main
from core.config import Config
from core.domain import Job, Label, Prediction, as_dict
from core.jobs import KIND as JOB_KIND
from core.service import Service
from tests.dynamodb_servers import aws_env, endpoint_for, team_config
from tests.review_seed import ingest_demo


def _age(path, seconds: float = 7200) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _leave_crash_debris(service: Service, tmp_path) -> dict[str, object]:
    """What crashes leave: a half-copied media file, an upload staged for a job that is gone, a media file whose
    record was never written; and what must stay: an upload an unfinished job still names."""
    (media_id,) = ingest_demo(service, ("cat.jpg",))
    partial = service.config.data_dir / "media" / media_id[:2] / f".{media_id}.123.456.tmp"
    partial.write_bytes(b"x" * 1000)
    orphan_src = tmp_path / "orphan.bin"
    orphan_src.write_bytes(os.urandom(2048))
    orphan_sha = hashlib.sha256(orphan_src.read_bytes()).hexdigest()
    service.blobs.put_file(orphan_sha, orphan_src)
    (lost, _), (needed, _) = service.catalog.stage_uploads([("a.jpg", b"a" * 500), ("b.jpg", b"b" * 500)])
    job = Job(job_id="1-pending", kind="ingest", params={"files": [[needed, "b.jpg"]], "staged": True})
    service.records.create(JOB_KIND, job.job_id, as_dict(job))
    for path in (partial, lost, needed, *service.config.data_dir.joinpath("media").rglob("*")):
        _age(path)
    return {"media_id": media_id, "partial": partial, "orphan": orphan_sha, "lost": lost, "needed": needed}


def test_gc_removes_what_crashes_left_and_keeps_what_is_needed(tmp_path):
    service = Service(Config(data_dir=tmp_path / "data"), start_jobs=False)
    try:
        debris = _leave_crash_debris(service, tmp_path)
        dry = service.leftovers.collect(dry_run=True)
        assert (dry.partial_files, dry.staged_uploads, dry.orphan_media) == (1, 1, 1) and dry.is_dry_run
        assert debris["partial"].exists()
        report = service.leftovers.collect()
        assert (report.partial_files, report.staged_uploads, report.orphan_media) == (1, 1, 1)
        assert report.bytes_freed == 1000 + 500 + 2048
        assert not debris["partial"].exists() and not os.path.exists(debris["lost"])
        assert not service.blobs.exists(debris["orphan"])
        assert os.path.exists(debris["needed"]) and service.blobs.exists(debris["media_id"])
        assert service.leftovers.collect().total == 0
    finally:
        service.close()


def test_gc_keeps_the_current_routing_snapshot(tmp_path):
    service = Service(Config(data_dir=tmp_path / "data"), start_jobs=False)
    try:
        service.predictions.save(Prediction("m" * 64, "v1", (Label("Cat", 0.9),)))
        service.routing.frames()
        service.routing.wait_for_snapshot()
        sha = service.routing.snapshots.current_sha256()
        assert sha and service.blobs.exists(sha)
        assert service.leftovers.collect(min_age_s=0).orphan_media == 0 and service.blobs.exists(sha)
    finally:
        service.close()


def test_young_files_are_left_alone_since_a_write_may_be_in_flight(tmp_path):
    service = Service(Config(data_dir=tmp_path / "data"), start_jobs=False)
    try:
        service.catalog.stage_uploads([("a.jpg", b"a")])
        assert service.leftovers.collect().total == 0
        assert service.leftovers.collect(min_age_s=0).staged_uploads == 1
    finally:
        service.close()


def test_the_service_cleans_local_leftovers_when_it_starts(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    service = Service(config, start_jobs=False)
    debris = _leave_crash_debris(service, tmp_path)
    service.close()
    restarted = Service(config)  # cleans first, then resumes the pending job, which still finds its upload
    try:
        assert not debris["partial"].exists() and not os.path.exists(debris["lost"])
        (outcome,) = restarted.jobs.wait("1-pending", 30).result["outcomes"]
        assert outcome["file"] == "b.jpg" and "lost" not in (outcome["reason"] or "")
    finally:
        restarted.close()


def test_python_m_core_gc_reports_counts_as_json(tmp_path, monkeypatch, capsys):
    service = Service(Config(data_dir=tmp_path / "data"), start_jobs=False)
    _leave_crash_debris(service, tmp_path)
    service.close()
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    assert cli_main(["gc", "--dry-run", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["partial_files"] == 1 and counts["staged_uploads"] == 1 and counts["is_dry_run"] is True
    assert cli_main(["gc"]) == 0
    assert "removed 1 partial media file(s), 1 staged upload(s), 1 orphan media file(s)" in capsys.readouterr().out


def test_gc_on_the_team_backend_removes_orphan_s3_objects_and_chunk_items(tmp_path, monkeypatch):
    endpoint = endpoint_for("moto")
    for key, value in aws_env(endpoint).items():
        monkeypatch.setenv(key, value)
    config = team_config(tmp_path / "data")
    service = Service(config, start_jobs=False)
    try:
        (media_id,) = ingest_demo(service, ("cat.jpg",))
        orphan = tmp_path / "orphan.bin"
        orphan.write_bytes(os.urandom(4096))
        orphan_sha = hashlib.sha256(orphan.read_bytes()).hexdigest()
        service.blobs.put_file(orphan_sha, orphan)
        big = {"text": os.urandom(600 * 1024).hex()}  # incompressible: stored in chunk items
        service.records.create("transcript", "t1", big)
        rec = service.records.get("transcript", "t1")
        service.records.put_many([rec.__class__("transcript", "t1", {"text": "short"}, rec.version + 1)])
        # the upsert above left the big body's chunk items behind, pointing nowhere
        young = service.leftovers.collect(dry_run=True)
        assert young.orphan_chunks == 0 and young.orphan_media == 0  # younger than an hour: left alone
        report = service.leftovers.collect(min_age_s=0)
        assert report.orphan_media == 1 and report.orphan_chunks >= 2
        assert not service.blobs.exists(orphan_sha) and service.blobs.exists(media_id)
        assert service.records.get("transcript", "t1").body == {"text": "short"}
        assert service.leftovers.collect(min_age_s=0).total == 0
    finally:
        service.close()
