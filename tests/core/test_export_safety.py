"""Exports stay inside their folder and never replace a file unasked; an A2I import can't reach outside it or into a
live loop; CSV cells never run as spreadsheet formulas."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.cli import main as cli_main
from core.config import Config
from core.destinations import app_destination, operator_destination, resolve_inside, safe_relative
from core.domain import Workflow
from core.errors import LoupeError
from core.formats.spreadsheet import safe_cell
from core.task_types.moderation import moderation_content
from tests.review_seed import ingest_demo, seed_moderation

TRAVERSAL = "../" * 30 + "tmp/loupe-escape"


def _a2i_doc(loop_name: str, *, flow: str = "outside-flow", image: str = "cat.jpg", worker: str = "w1") -> dict:
    return {"flowDefinitionArn": f"arn:aws:sagemaker:us-east-1:1:flow-definition/{flow}", "humanLoopName": loop_name,
            "humanAnswers": [{"answerContent": moderation_content([("Weapons", "Violence")]), "workerId": worker}],
            "inputContent": {"aiServiceRequest": {"image": {"s3Object": {"bucket": "b", "name": image}}}}}


@pytest.mark.parametrize("loop_name, flow, reason", [
    (TRAVERSAL, "outside-flow", "humanLoopName"),
    ("..", "outside-flow", "humanLoopName"),
    ("Loop-1", "outside-flow", "humanLoopName"),
    ("x" * 64, "outside-flow", "humanLoopName"),
    ("loop-1", "..%2f..", "flow definition name"),
    ("loop-1", "flow/../../etc", "flow definition name"),
])
def test_an_a2i_import_with_a_name_outside_aws_patterns_is_refused(service, tmp_path, loop_name, flow, reason):
    ingest_demo(service, ("cat.jpg",))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "output.json").write_text(json.dumps(_a2i_doc(loop_name, flow=flow)))
    report = service.exports.import_a2i([tmp_path / "in"])
    assert not report.imported and reason in report.rejected[0][1]
    assert service.loops.count() == 0 and service.answers.count() == 0


def test_no_export_writes_outside_its_folder_even_for_a_stored_loop_with_a_bad_name(service, tmp_path):
    from core.domain import HumanLoop

    (media_id,) = ingest_demo(service, ("cat.jpg",))
    service.workflows.save(Workflow(name="flow", task_type="moderation"))
    service.loops.create(HumanLoop(TRAVERSAL, media_id, "flow", task_count=1))  # as an older import left it
    service.review.record_answer(service.loops.get(TRAVERSAL), "ana", moderation_content([]))
    with pytest.raises(LoupeError, match="outside the export folder"):
        service.exports.export("a2i", str(tmp_path / "out"))
    assert not Path("/tmp/loupe-escape").exists() and not any((tmp_path / "out").rglob("*.json"))


@pytest.mark.parametrize("rel", ["../x", "a/../../x", "/etc/passwd", "", "a//b", "./a", "a\\b", "a\x00b"])
def test_every_relative_path_an_export_writes_is_checked(tmp_path, rel):
    with pytest.raises(LoupeError):
        resolve_inside(tmp_path, rel)


def test_a_symlink_inside_the_export_folder_cannot_lead_out(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(LoupeError, match="outside"):
        resolve_inside(root, "link/escape.json")
    assert safe_relative("flow/2026/01/01/loop-1/output.json").name == "output.json"


def test_an_import_naming_a_live_loop_is_refused_and_the_reviewer_keeps_her_task(service, tmp_path):
    (loop,) = seed_moderation(service, task_count=1)
    task = service.review.next_task("ana")
    (tmp_path / "forged.json").write_text(json.dumps(_a2i_doc(loop.loop_id, flow="moderation-flow",
                                                                worker="mallory")))
    report = service.exports.import_a2i([tmp_path / "forged.json"])
    assert not report.imported and "already exists" in report.rejected[0][1]
    assert service.answers.for_loop(loop.loop_id) == [] and service.loops.get(loop.loop_id).status == "InProgress"
    outcome = service.review.submit(task, moderation_content([]))
    assert outcome.is_recorded and outcome.is_completed
    assert service.consolidation.get(loop.media_id).reviewers == ("ana",)


def test_an_import_naming_a_completed_loop_with_other_answers_is_refused(service, tmp_path):
    (loop,) = seed_moderation(service, task_count=1)
    service.review.submit(service.review.next_task("ana"), moderation_content([]))
    (tmp_path / "forged.json").write_text(json.dumps(_a2i_doc(loop.loop_id, flow="moderation-flow")))
    report = service.exports.import_a2i([tmp_path / "forged.json"])
    assert "already exists" in report.rejected[0][1]
    assert [a.worker_id for a in service.answers.for_loop(loop.loop_id)] == ["ana"]


def test_app_exports_go_under_the_exports_root_only(tmp_path):
    config = Config(data_dir=tmp_path / "data")
    assert app_destination(config, "batch-1").root == config.data_dir / "exports" / "batch-1"
    for bad in ("/etc", "../x", "a/b", "s3://other-bucket/x", ".hidden"):
        with pytest.raises(LoupeError, match="folder name"):
            app_destination(config, bad)
    with pytest.raises(LoupeError, match="No S3 export prefix"):
        app_destination(config, "x", to_s3=True)
    own = Config(data_dir=tmp_path / "data", export_dir=tmp_path / "elsewhere",
                 export_s3_prefix="s3://team-bucket/exports")
    assert app_destination(own, "").root == tmp_path / "elsewhere"
    s3 = app_destination(own, "run-1", to_s3=True)
    assert (s3.bucket, s3.prefix) == ("team-bucket", "exports/run-1")


def test_the_export_job_never_writes_a_path_named_in_its_params(service, tmp_path):
    seed_moderation(service, task_count=1)
    service.review.submit(service.review.next_task("ana"), moderation_content([]))
    with pytest.raises(LoupeError):
        service.exports.submit("csv", str(tmp_path / "anywhere"))
    job = service.jobs.submit("export", {"format": "csv", "out": str(tmp_path / "anywhere")})  # an old queued job
    done = service.jobs.wait(job.job_id, 30)
    assert done.status == "failed" and "no longer allowed" in done.error
    assert not (tmp_path / "anywhere").exists()


def test_an_existing_export_file_is_replaced_only_when_asked(service, tmp_path):
    seed_moderation(service, task_count=1)
    service.review.submit(service.review.next_task("ana"), moderation_content([]))
    out = tmp_path / "out"
    out.mkdir()
    (out / "labels.csv").write_text("precious")
    with pytest.raises(LoupeError, match="already exist"):
        service.exports.export("csv", str(out))
    assert (out / "labels.csv").read_text() == "precious"
    service.exports.export("csv", str(out), overwrite=True)
    assert (out / "labels.csv").read_text().startswith("media_id,")
    job = service.exports.submit("csv", "run")
    assert service.jobs.wait(job.job_id, 30).status == "succeeded"
    again = service.jobs.wait(service.exports.submit("csv", "run").job_id, 30)
    assert again.status == "failed" and "already exist" in again.error
    replaced = service.jobs.wait(service.exports.submit("csv", "run", overwrite=True).job_id, 30)
    assert replaced.status == "succeeded"


def test_out_naming_a_file_or_nothing_is_a_clear_error(tmp_path, monkeypatch, caplog):
    with pytest.raises(LoupeError, match="is empty"):
        operator_destination("")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(LoupeError, match="is a file"):
        operator_destination(str(tmp_path / "a-file"))
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    assert cli_main(["export", "--format", "csv", "--out", ""]) == 2
    assert cli_main(["export", "--format", "csv", "--out", str(tmp_path / "a-file")]) == 2
    assert "is a file" in caplog.text and "is empty" in caplog.text
    assert (tmp_path / "a-file").read_text() == "x"


@pytest.mark.parametrize("cell, shown", [
    ("=HYPERLINK(\"https://evil.example\",\"x\")", "'=HYPERLINK(\"https://evil.example\",\"x\")"),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"),
    ("cat.jpg", "cat.jpg"), ("", ""), (-0.5, -0.5), (3, 3),
])
def test_a_csv_cell_that_starts_like_a_formula_is_neutralised(cell, shown):
    assert safe_cell(cell) == shown


def test_labels_csv_neutralises_formulas_in_file_names_labels_and_reviewers(service, tmp_path):
    from core.domain import Label, Prediction

    outcome = service.catalog.ingest_file(Path(__file__).resolve().parents[2] / "demo" / "cat.jpg",
                                          name="=HYPERLINK(1).jpg")
    service.predictions.save(Prediction(outcome.media_id, "m", (Label("@evil", 0.99), Label("-1+1", 0.99))))
    service.exports.export("csv", str(tmp_path / "csv"))
    rows = list(csv.DictReader((tmp_path / "csv" / "labels.csv").open()))
    assert {r["file_name"] for r in rows} == {"'=HYPERLINK(1).jpg"}
    assert {r["label"] for r in rows} == {"'@evil", "'-1+1"}
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v)
