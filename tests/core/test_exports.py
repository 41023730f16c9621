"""Exports and the A2I import: manifest lines, A2I folder layout and round trip, CSV, S3, box units, the CLI."""
from __future__ import annotations

import csv
import hashlib
import json
import re

import pytest

from core.cli import main as cli_main
from core.config import Config
from core.domain import BoundingBox, Label, Prediction
from core.errors import LoupeError
from core.formats.a2i import parse_output_json
from core.formats.ground_truth import box_from_pixels, box_to_pixels, check_attribute, parse_manifest_line
from core.service import Service
from core.task_types.moderation import moderation_content
from tests.review_seed import GENERAL, ingest_demo, seed_label_review, seed_moderation


def _review_all(service, picks_by_worker, task_type=None):
    for worker, content in picks_by_worker:
        while (task := service.review.next_task(worker, task_type=task_type)) is not None:
            service.review.submit(task, content)


@pytest.fixture
def reviewed(service):
    seed_moderation(service, task_count=2, names=("cat.jpg", "coffee.jpg"))
    _review_all(service, [("ana", moderation_content([("Weapons", "Violence")])),
                          ("ben", moderation_content([("Weapons", "Violence"), ("Pills", "Drugs")]))])
    seed_label_review(service, names=("astronaut.jpg",))
    _review_all(service, [("cy", {"labels": [{"name": "Cat", "confidence": 0.93, "source": "model"}],
                                  "boxes": [{"label": "Cat", "left": 0.25, "top": 0.5, "width": 0.5,
                                             "height": 0.25}]})],
                task_type="label_review")
    return service


def test_boxes_convert_between_rekognition_fractions_and_ground_truth_pixels():
    box = BoundingBox(0.222, 0.335, 0.122, 0.32)
    px = box_to_pixels(box, 500, 400)
    assert px == {"left": 111, "top": 134, "width": 61, "height": 128}
    back = box_from_pixels(px, 500, 400)
    assert back.left == pytest.approx(0.222) and back.height == pytest.approx(0.32)
    assert box_to_pixels(BoundingBox(0.9, 0.9, 0.5, 0.5), 100, 100) == {"left": 90, "top": 90, "width": 10,
                                                                        "height": 10}


def test_attribute_names_follow_ground_truth_rules():
    with pytest.raises(LoupeError):
        check_attribute("labels-metadata")
    with pytest.raises(LoupeError):
        check_attribute("image-ref")


def test_every_manifest_line_parses_with_the_documented_keys_and_types(reviewed, tmp_path):
    result = reviewed.exports.export("gt-manifest", str(tmp_path / "gt"), source_prefix="s3://bucket/images")
    lines = (tmp_path / "gt" / "output.manifest").read_text().splitlines()
    assert result.items == len(lines) == 3
    saw_boxes = False
    for raw in lines:
        line = json.loads(raw)
        assert line["source-ref"].startswith("s3://bucket/images/")
        assert isinstance(line["labels"], list) and all(isinstance(i, int) for i in line["labels"])
        meta = line["labels-metadata"]
        assert meta["type"] == "groundtruth/image-classification-multilabel"
        assert meta["job-name"] == "labeling-job/labels" and meta["human-annotated"] in ("yes", "no")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", meta["creation-date"])
        assert set(meta["class-map"]) == set(meta["confidence-map"]) == {str(i) for i in line["labels"]}
        assert all(0 <= v <= 1 for v in meta["confidence-map"].values())
        if "labels-bbox" in line:
            saw_boxes = True
            size = line["labels-bbox"]["image_size"][0]
            assert set(size) == {"width", "height", "depth"}
            ann = line["labels-bbox"]["annotations"][0]
            assert set(ann) == {"class_id", "left", "top", "width", "height"}
            assert all(isinstance(v, int) for v in ann.values())
            bmeta = line["labels-bbox-metadata"]
            assert bmeta["type"] == "groundtruth/object-detection" and len(bmeta["objects"]) == 1
            ref, names, boxes = parse_manifest_line(line, "labels")
            if ref.endswith("astronaut.jpg"):  # reviewed on the label page: the person's box, not the model's
                assert names == ["Cat"] and boxes == [("Cat", {"left": 128, "top": 256, "width": 256, "height": 128})]
    assert saw_boxes


def test_a2i_output_is_written_in_a2is_folder_layout_with_the_input_content(reviewed, tmp_path):
    result = reviewed.exports.export("a2i", str(tmp_path / "a2i"), workflow="moderation-flow")
    files = sorted((tmp_path / "a2i").rglob("output.json"))
    assert result.files == len(files) == 2
    rel = files[0].relative_to(tmp_path / "a2i").as_posix()
    assert re.fullmatch(r"moderation-flow/\d{4}/\d\d/\d\d/\d\d/\d\d/\d\d/moderation-flow-[0-9a-f]{16}/output.json", rel)
    doc = json.loads(files[0].read_text())
    assert doc["awsManagedHumanLoopRequestSource"] == "AWS/Rekognition/DetectModerationLabels/Image/V3"
    assert [h["workerId"] for h in doc["humanAnswers"]] == ["ana", "ben"]
    assert {"acceptanceTime", "submissionTime", "timeSpentInSeconds", "answerContent"} <= set(doc["humanAnswers"][0])
    inp = doc["inputContent"]
    assert inp["humanTaskActivationConditionResults"]["Conditions"][0]["EvaluationResult"] is True
    assert {m["name"] for m in inp["aiServiceResponse"]["moderationLabels"]} == {"Weapons", "Violence",
                                                                                 "Alcoholic Beverages"}
    assert inp["aiServiceResponse"]["moderationLabels"][0]["confidence"] > 1  # 0..100 at the edge


def test_a2i_output_round_trips_through_the_import(reviewed, tmp_path):
    reviewed.exports.export("a2i", str(tmp_path / "a2i"), workflow="moderation-flow")
    fresh = Service(Config(data_dir=tmp_path / "fresh"))
    try:
        from tests.review_seed import ingest_demo

        ingest_demo(fresh, ("cat.jpg", "coffee.jpg"))
        report = fresh.exports.import_a2i([tmp_path / "a2i"])
        assert len(report.imported) == 2 and not report.rejected
        original = {k: v for k, v in reviewed.consolidation.accepted_labels().items()
                    if k in {lp.media_id for lp in reviewed.loops.list("moderation-flow")}}
        assert fresh.consolidation.accepted_labels() == original
        assert fresh.consolidation.get(next(iter(original))).source == "import"
        again = fresh.exports.import_a2i([tmp_path / "a2i"])  # importing twice records nothing twice
        assert len(again.imported) == 2 and len(list(fresh.answers.all())) == 4
    finally:
        fresh.close()


def test_pascal_case_a2i_output_is_read_and_bad_files_are_named_and_skipped(service, tmp_path):
    from tests.review_seed import ingest_demo

    ingest_demo(service, ("cat.jpg",))
    doc = {"FlowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/outside-flow", "HumanLoopName": "loop-1",
           "HumanAnswers": [{"AnswerContent": {"AWS/Rekognition/DetectModerationLabels/Image/V3": {
               "ModerationLabels": [{"Name": "Smoking", "ParentName": "Tobacco"}]}}, "WorkerId": "w1",
               "TimeSpentInSeconds": 3}],
           "InputContent": {"AiServiceRequest": {"Image": {"S3Object": {"Bucket": "b", "Name": "cat.jpg"}}},
                            "AiServiceResponse": {"ModerationLabels": [{"Name": "Smoking", "Confidence": 71.5,
                                                                        "ParentName": "Tobacco"}]}}}
    (tmp_path / "good.json").write_text(json.dumps(doc))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({**doc, "InputContent": {"AiServiceRequest": {"Image": {
        "S3Object": {"Name": "missing.jpg"}}}}, "HumanLoopName": "loop-2"}))
    report = service.exports.import_a2i([tmp_path])
    assert report.imported == [str(tmp_path / "good.json")]
    reasons = dict(report.rejected)
    assert "not in the catalog" in reasons[str(tmp_path / "other.json")]
    assert "not valid" in reasons[str(tmp_path / "broken.json")]
    (media_id,) = service.consolidation.accepted_labels()
    assert service.consolidation.accepted_labels()[media_id] == {"Smoking"}
    assert service.predictions.get(media_id).labels[0].confidence == pytest.approx(0.715)
    with pytest.raises(LoupeError, match="humanLoopName"):
        parse_output_json({"humanAnswers": []})


def test_csv_export_has_a_row_per_final_label_saying_human_or_auto(reviewed, tmp_path):
    (horse,) = ingest_demo(reviewed, ("horse.jpg",))  # labeled, in no workflow: the model's labels are final
    reviewed.predictions.save(Prediction(horse, "test-model-1", GENERAL))
    reviewed.exports.export("csv", str(tmp_path / "csv"))
    rows = list(csv.DictReader((tmp_path / "csv" / "labels.csv").open()))
    sources = {(r["file_name"], r["label"]): r["source"] for r in rows if r["kind"] == "label"}
    assert sources[("cat.jpg", "Weapons")] == "human" and sources[("horse.jpg", "Cat")] == "auto"
    assert ("cat.jpg", "Cat") not in sources  # an image label is not the moderation workflow's to accept
    assert any(r["kind"] == "box" and r["source"] == "human" for r in rows)


def test_a_label_review_workflows_manifest_and_class_map_hold_no_moderation_labels(service, tmp_path):
    both = GENERAL + (Label("Explosions And Blasts", 0.95, category="moderation", parent_name="Explosions"),)
    seed_label_review(service, names=("cat.jpg",), labels=both)

    def class_map() -> set[str]:
        text = service.exports.render("gt-manifest", workflow="label-flow").data.decode()
        (line,) = [json.loads(raw) for raw in text.splitlines()]
        return set(line["labels-metadata"]["class-map"].values())

    assert class_map() == {"Cat", "Animal"}  # waiting for review: the model's image labels at the threshold
    _review_all(service, [("cy", {"labels": [{"name": "Cat", "confidence": 0.93, "source": "model"}]})],
                task_type="label_review")
    assert class_map() == {"Cat"}  # reviewed: what people kept, and no moderation category auto-accepted


def test_exports_go_to_an_s3_prefix(reviewed, monkeypatch):
    from moto import mock_aws

    _aws_env(monkeypatch)
    with mock_aws():
        import boto3

        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="results")
        reviewed.exports.export("gt-manifest", "s3://results/run1")
        reviewed.exports.export("a2i", "s3://results/a2i")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="results")["Contents"]]
        assert "run1/output.manifest" in keys
        assert sum(k.startswith("a2i/moderation-flow/") and k.endswith("/output.json") for k in keys) == 2
        body = s3.get_object(Bucket="results", Key="run1/output.manifest")["Body"].read().decode()
        assert len(body.splitlines()) == 3
        refs = [json.loads(line)["source-ref"] for line in body.splitlines()]  # media of this server, copied there
        assert sorted(refs) == [f"s3://results/run1/images/{n}" for n in ("astronaut.jpg", "cat.jpg", "coffee.jpg")]
        assert {f"run1/images/{n}" for n in ("astronaut.jpg", "cat.jpg", "coffee.jpg")} <= set(keys)


def _aws_env(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_a_manifest_exported_to_a_folder_names_its_images_relative_to_it_and_holds_them(reviewed, tmp_path):
    result = reviewed.exports.export("gt-manifest", str(tmp_path / "gt"))
    text = (tmp_path / "gt" / "output.manifest").read_text()
    assert str(reviewed.config.data_dir) not in text  # never the server's own path of a file
    refs = {json.loads(line)["source-ref"] for line in text.splitlines()}
    assert refs == {"images/astronaut.jpg", "images/cat.jpg", "images/coffee.jpg"}
    assert result.files == 4 and result.items == 3
    for ref in refs:
        item = reviewed.catalog.find(ref.split("/")[-1])
        assert hashlib.sha256((tmp_path / "gt" / ref).read_bytes()).hexdigest() == item.media_id

    fresh = Service(Config(data_dir=tmp_path / "fresh"), start_jobs=False)  # nothing ingested there yet
    try:
        report = fresh.ground_truth.import_file(tmp_path / "gt" / "output.manifest", workflow="from-export")
        assert (report.imported, report.errors) == (3, [])
        assert sorted(i.file_name for i in fresh.catalog.list()) == ["astronaut.jpg", "cat.jpg", "coffee.jpg"]
        truth = {fresh.catalog.get(m).file_name: names for m, names in fresh.consolidation.accepted_labels().items()}
        assert truth["astronaut.jpg"] == {"Cat"}
    finally:
        fresh.close()


def test_a_downloaded_manifest_names_images_relative_to_it_not_where_the_server_keeps_them(reviewed):
    text = reviewed.exports.render("gt-manifest").data.decode()
    assert str(reviewed.config.data_dir) not in text
    assert sorted(json.loads(line)["source-ref"] for line in text.splitlines()) == [
        "images/astronaut.jpg", "images/cat.jpg", "images/coffee.jpg"]


def test_with_media_in_s3_a_manifest_names_each_items_own_object_and_reads_back(tmp_path, monkeypatch):
    from moto import mock_aws

    from core.aws import AwsConfig
    from core.stores.local import SQLiteRecordStore
    from core.stores.s3 import S3BlobStore

    _aws_env(monkeypatch)
    with mock_aws():
        import boto3

        boto3.client("s3").create_bucket(Bucket="team-media")
        stores = (SQLiteRecordStore(tmp_path / "records.sqlite3"),
                  S3BlobStore("team-media", tmp_path / "cache", aws=AwsConfig(region="us-east-1")))
        with Service(Config(data_dir=tmp_path / "data"), stores=stores, start_jobs=False) as service:
            (loop,) = seed_label_review(service, names=("cat.jpg",))
            _review_all(service, [("cy", {"labels": [{"name": "Cat", "confidence": 0.9, "source": "model"}]})],
                        task_type="label_review")
            service.exports.export("gt-manifest", str(tmp_path / "gt"), workflow="label-flow")
            (line,) = (tmp_path / "gt" / "output.manifest").read_text().splitlines()
            assert json.loads(line)["source-ref"] == f"s3://team-media/media/{loop.media_id}"
            assert not (tmp_path / "gt" / "images").exists()  # the objects are in S3 already
            assert json.loads(service.exports.render("gt-manifest").data)["source-ref"] == \
                f"s3://team-media/media/{loop.media_id}"
            report = service.ground_truth.import_file(tmp_path / "gt" / "output.manifest", workflow="read-back")
            assert (report.imported, report.errors, report.media_ids) == (1, [], [loop.media_id])


def test_export_runs_as_a_background_job(reviewed):
    job = reviewed.exports.submit("csv", "job")
    current = reviewed.jobs.wait(job.job_id, timeout_s=30)
    assert current.status == "succeeded", current.error
    assert current.result["items"] == 3 and (reviewed.config.exports_root / "job" / "labels.csv").exists()


def test_unknown_format_or_workflow_is_a_plain_error(reviewed, tmp_path):
    with pytest.raises(LoupeError, match="format"):
        reviewed.exports.export("xml", str(tmp_path))
    with pytest.raises(LoupeError, match="no workflow"):
        reviewed.exports.export("csv", str(tmp_path), workflow="nope")


def test_the_command_line_exports_and_imports(tmp_path, monkeypatch, capsys):
    data = tmp_path / "cli-data"
    svc = Service(Config(data_dir=data))
    seed_moderation(svc, task_count=1)
    _review_all(svc, [("ana", moderation_content([("Weapons", "Violence")]))])
    svc.close()
    monkeypatch.setenv("LOUPE_DATA_DIR", str(data))
    assert cli_main(["export", "--format", "a2i", "--out", str(tmp_path / "out"), "--workflow", "moderation-flow"]) == 0
    assert "exported 1 items" in capsys.readouterr().out
    assert cli_main(["import-a2i", str(tmp_path / "out"), str(tmp_path / "nope.json")]) == 1
    out = capsys.readouterr().out
    assert "imported 1 human loop(s)" in out and "does not exist" in out
    assert cli_main(["export", "--format", "csv", "--out", str(tmp_path / "o2"), "--workflow", "missing"]) == 2


def _a2i_output(flow: str, loop: str, picks: list[tuple[str, str]], worker: str) -> dict:
    return {"flowDefinitionArn": f"arn:aws:sagemaker:us-east-1:111122223333:flow-definition/{flow}",
            "humanLoopName": loop, "humanAnswers": [{"answerContent": moderation_content(picks), "workerId": worker,
                                                     "timeSpentInSeconds": 4}],
            "inputContent": {"aiServiceRequest": {"image": {"s3Object": {"bucket": "b", "name": "cat.jpg"}}},
                             "aiServiceResponse": {"moderationLabels": [
                                 {"name": "Smoking", "confidence": 71.5, "parentName": "Tobacco"},
                                 {"name": "Weapons", "confidence": 64.0, "parentName": "Violence"}]}}}


def test_a2i_outputs_for_one_image_under_two_flow_definitions_keep_both(service, tmp_path):
    from tests.review_seed import ingest_demo

    (media_id,) = ingest_demo(service, ("cat.jpg",))
    (tmp_path / "in").mkdir()
    # the same loop name under two flow definitions, as two accounts' exports can have
    for flow, picks, worker in (("smoke-check", [("Smoking", "Tobacco")], "w1"),
                                ("weapons-check", [("Weapons", "Violence")], "w2")):
        (tmp_path / "in" / f"{flow}.json").write_text(json.dumps(_a2i_output(flow, "loop-1", picks, worker)))
    report = service.exports.import_a2i([tmp_path / "in"])
    assert len(report.imported) == 2 and not report.rejected
    assert {wf.name for wf in service.workflows.list()} == {"smoke-check", "weapons-check"}
    assert service.consolidation.get(media_id, "smoke-check").accepted == {"Smoking"}
    assert service.consolidation.get(media_id, "weapons-check").accepted == {"Weapons"}
    for flow, label, worker in (("smoke-check", "Smoking", "w1"), ("weapons-check", "Weapons", "w2")):
        service.exports.export("csv", str(tmp_path / flow), workflow=flow)
        rows = [r for r in csv.DictReader((tmp_path / flow / "labels.csv").open()) if r["source"] == "human"]
        assert [(r["label"], r["reviewers"], r["workflow"]) for r in rows] == [(label, worker, flow)]
    again = service.exports.import_a2i([tmp_path / "in"])  # importing again records nothing twice
    assert len(again.imported) == 2 and len(list(service.answers.all())) == 2 and len(service.loops.list()) == 2


def test_an_imported_label_review_output_makes_a_label_review_workflow(service, tmp_path):
    from tests.review_seed import ingest_demo

    ingest_demo(service, ("cat.jpg",))
    doc = _a2i_output("labels-flow", "loop-9", [], "w1")
    doc["humanAnswers"][0]["answerContent"] = {"labels": [{"name": "Cat", "confidence": 1.0, "source": "human"}],
                                               "boxes": []}
    (tmp_path / "out.json").write_text(json.dumps(doc))
    assert service.exports.import_a2i([tmp_path / "out.json"]).imported
    assert service.workflows.get("labels-flow").task_type == "label_review"


def test_an_unticked_labels_box_is_in_neither_the_csv_nor_the_manifest(service, tmp_path):
    from core.task_types.label_review import label_review_content

    seed_label_review(service, names=("astronaut.jpg",))
    content = label_review_content([("Animal", 0.91)], [], [{"label": "Cat", "left": 10, "top": 10, "width": 50,
                                                             "height": 80}], (512, 512), is_blind=False)
    _review_all(service, [("dana", content)], task_type="label_review")
    service.exports.export("csv", str(tmp_path / "csv"), workflow="label-flow")
    service.exports.export("gt-manifest", str(tmp_path / "gt"), workflow="label-flow")
    rows = list(csv.DictReader((tmp_path / "csv" / "labels.csv").open()))
    assert not [r for r in rows if r["label"] == "Cat"]
    _, names, boxes = parse_manifest_line(json.loads((tmp_path / "gt" / "output.manifest").read_text()), "labels")
    assert names == ["Animal"] and boxes == []
