"""The composition root: every job kind registered in one place, injected parts used, closed as a context manager."""
from __future__ import annotations

from core.config import Config
from core.service import Service, build_service
from core.stores.local import SQLiteRecordStore


def test_every_job_kind_a_part_submits_has_a_handler(service):
    assert service.jobs.kinds == {"ingest", "label", "transcribe", "route", "export", "demo", "learn"}


def test_injected_stores_are_the_ones_used(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    records = SQLiteRecordStore(tmp_path / "elsewhere.sqlite3")
    with Service(config, start_jobs=False) as first:
        blobs = first.blobs
    with build_service(config, start_jobs=False, stores=(records, blobs)) as service:
        assert service.records is records and service.workflows.records is records
        assert service.catalog.records is records


def test_a_service_used_as_a_context_manager_is_closed_on_exit(tmp_path):
    closed = []
    with build_service(Config(data_dir=tmp_path / "data")) as service:
        job = service.jobs.wait(service.submit_uploads([]).job_id, 30)
        assert job.status == "succeeded"
        close = service.close
        service.close = lambda: (closed.append(True), close())
    assert closed == [True]
