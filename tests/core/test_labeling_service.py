"""Labeling through the service: background jobs, stored predictions, auto-label, imports and the CLI."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from core.cli import main as cli_main
from core.config import Config
from core.labelers.local import LocalLabeler
from core.service import Service
from tests.core.labeling_fixtures import ASTRONAUT, CAT, COFFEE, MOTORCYCLE

DEMO = Path(__file__).resolve().parents[2] / "demo"


@pytest.fixture(scope="module")
def shared_labeler(tmp_path_factory) -> LocalLabeler:
    return LocalLabeler(tmp_path_factory.mktemp("models"))


@pytest.fixture
def labeling_service(config, shared_labeler):
    with Service(config, labelers={"local": shared_labeler}) as svc:
        yield svc


def ingest(service, *paths) -> list[str]:
    return [service.catalog.ingest_file(p).media_id for p in paths]


def test_a_label_job_labels_every_unlabeled_image_and_marks_it_labeled(labeling_service):
    svc = labeling_service
    cat, coffee = ingest(svc, CAT, COFFEE)
    job = svc.jobs.wait(svc.labeling.submit(created_by="ann").job_id, 120)
    assert job.status == "succeeded" and job.result["labeled"] == 2 and job.done == job.total == 2
    cat_prediction = svc.predictions.get(cat)
    assert "Cat" in {lb.name for lb in cat_prediction.labels}
    assert cat_prediction.model_version.startswith("loupe-local-1/") and cat_prediction.created_at
    assert {svc.catalog.get(m).status for m in (cat, coffee)} == {"labeled"}
    assert svc.labeling.unlabeled_ids() == []


def test_labeling_a_selection_leaves_the_rest_unlabeled(labeling_service):
    svc = labeling_service
    cat, moto = ingest(svc, CAT, MOTORCYCLE)
    job = svc.jobs.wait(svc.labeling.submit([moto]).job_id, 120)
    assert job.status == "succeeded"
    assert svc.predictions.labeled_ids() == {moto} and svc.labeling.unlabeled_ids() == [cat]


def test_bad_items_are_reported_and_the_rest_are_labeled(labeling_service):
    svc = labeling_service
    cat, sound = ingest(svc, CAT, DEMO / "welcome.wav")
    outcomes = {o.media_id: o for o in svc.labeling.label([sound, "f" * 64, cat])}
    assert outcomes[sound].status == "failed" and "not an image" in outcomes[sound].reason
    assert outcomes["f" * 64].status == "failed" and "No media item" in outcomes["f" * 64].reason
    assert outcomes[cat].status == "labeled"
    assert svc.predictions.labeled_ids() == {cat}


def test_the_model_loads_once_per_process_even_when_threads_ask_together(service):
    seen: list = []
    threads = [threading.Thread(target=lambda: seen.append(service.labeling.labeler("local"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(x) for x in seen}) == 1
    assert list((service.config.data_dir / "models").glob("*.onnx"))  # cached in the data dir


def test_auto_label_labels_uploaded_images_after_the_ingest_job(tmp_path, shared_labeler):
    svc = Service(Config(data_dir=tmp_path / "data", auto_label=True), labelers={"local": shared_labeler})
    try:
        ingest_job = svc.jobs.wait(svc.submit_uploads([("cat.png", CAT.read_bytes())]).job_id, 60)
        label_job = svc.jobs.wait(ingest_job.result["label_job_id"], 120)
        assert label_job.status == "succeeded" and label_job.result["labeled"] == 1
        (item,) = svc.catalog.list()
        assert item.status == "labeled"
    finally:
        svc.close()


def test_uploads_are_not_labeled_when_auto_label_is_off(tmp_path, shared_labeler):
    with Service(Config(data_dir=tmp_path / "data", auto_label=False), labelers={"local": shared_labeler}) as svc:
        job = svc.jobs.wait(svc.submit_uploads([("cat.png", CAT.read_bytes())]).job_id, 60)
        assert "label_job_id" not in job.result


def test_uploads_are_labeled_by_default(labeling_service):
    job = labeling_service.jobs.wait(labeling_service.submit_uploads([("cat.png", CAT.read_bytes())]).job_id, 60)
    label_job = labeling_service.jobs.wait(job.result["label_job_id"], 120)
    assert label_job.status == "succeeded" and label_job.result["labeled"] == 1


def test_a_csv_import_keeps_good_rows_and_reports_bad_ones_by_line(labeling_service):
    svc = labeling_service
    cat, coffee = ingest(svc, CAT, COFFEE)
    csv_text = ("media,label,confidence,parent\n"
                "chelsea.png,Cat,97.5,Animal\n"
                f"{coffee},Coffee,80,\n"
                "chelsea.png,,50,\n"
                "missing.jpg,Dog,40,\n"
                "chelsea.png,Kitten,lots,\n"
                "chelsea.png,<script>alert(1)</script>,12,\n")
    report = svc.labeling.import_bytes("mine.csv", csv_text.encode())
    assert report.format == "csv" and report.scale == "0-100" and report.imported == 2 and report.labels == 3
    assert [e.split(":")[0] for e in report.errors] == ["line 4", "line 5", "line 6"]
    assert "label column is empty" in report.errors[0] and "missing.jpg" in report.errors[1]
    cat_labels = {lb.name: lb for lb in svc.predictions.get(cat).labels}
    assert cat_labels["Cat"].confidence == pytest.approx(0.975) and cat_labels["Cat"].parents == ("Animal",)
    assert "<script>alert(1)</script>" in cat_labels  # kept as text; pages escape it
    assert svc.predictions.get(cat).source == "import" and svc.catalog.get(cat).status == "labeled"


def test_a_json_lines_import_reads_0_to_1_confidences_and_moderation_rows(labeling_service):
    svc = labeling_service
    (cat,) = ingest(svc, CAT)
    lines = [json.dumps({"media": "chelsea.png", "label": "Cat", "confidence": 0.9}),
             "{not json",
             json.dumps({"media": "chelsea.png", "label": "Weapons", "confidence": 0.3, "parent": "Violence",
                         "category": "moderation"})]
    report = svc.labeling.import_bytes("mine.jsonl", "\n".join(lines).encode())
    assert report.format == "jsonl" and report.scale == "0-1" and report.labels == 2
    assert report.errors == ("line 2: not valid JSON (Expecting property name enclosed in double quotes)",)
    weapons = next(lb for lb in svc.predictions.get(cat).labels if lb.name == "Weapons")
    assert weapons.category == "moderation" and weapons.parent_name == "Violence" and weapons.taxonomy_level == 2


def test_a_rekognition_response_file_is_imported_for_the_image_it_is_named_after(labeling_service, tmp_path):
    svc = labeling_service
    (cat,) = ingest(svc, CAT)
    response = {"Labels": [{"Name": "Cat", "Confidence": 98.1, "Parents": [{"Name": "Animal"}], "Instances": []}],
                "LabelModelVersion": "3.0"}
    path = tmp_path / "chelsea.json"
    path.write_text(json.dumps(response))
    report = svc.labeling.import_file(path)
    assert (report.format, report.imported, report.errors) == ("rekognition", 1, ())
    prediction = svc.predictions.get(cat)
    assert prediction.labels[0].confidence == pytest.approx(0.981) and prediction.model_version == "rekognition 3.0"


def test_the_label_command_prints_rekognition_shaped_json_per_image(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "cli"))
    assert cli_main(["ingest", str(ASTRONAUT), str(CAT)]) == 0
    capsys.readouterr()
    assert cli_main(["label", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_file = {r["file"]: r for r in rows}
    assert set(by_file) == {"astronaut.png", "chelsea.png"}
    astronaut = by_file["astronaut.png"]
    assert set(astronaut) == {"media_id", "file", "labels", "moderation_labels", "model_version"}
    names = {lb["Name"]: lb for lb in astronaut["labels"]}
    assert names["Face"]["Confidence"] > 50 and names["Face"]["Instances"][0]["BoundingBox"]["Width"] > 0
    assert cli_main(["label", "nope.jpg"]) == 1


def test_the_import_predictions_command_reports_bad_rows_and_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "cli"))
    assert cli_main(["ingest", str(CAT)]) == 0
    table = tmp_path / "p.csv"
    table.write_text("media,label,confidence\nchelsea.png,Cat,0.9\nchelsea.png,Dog,2000\n")
    capsys.readouterr()
    assert cli_main(["import-predictions", str(table), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 1 and report["errors"] == ["line 3: the confidence '2000' is outside 0-100"]


def test_the_label_commands_json_lines_import_back_as_predictions(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "cli"))
    assert cli_main(["ingest", str(CAT)]) == 0
    capsys.readouterr()
    assert cli_main(["label", "--json"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    line["moderation_labels"] = [{"Name": "Weapons", "ParentName": "Violence", "Confidence": 40.0, "TaxonomyLevel": 2}]
    exported = tmp_path / "labels.jsonl"
    exported.write_text(json.dumps(line) + "\n" + json.dumps({"file": "gone.png", "labels": []}) + "\n")
    assert cli_main(["import-predictions", str(exported), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "rekognition" and report["imported"] == 1
    assert report["errors"] == ["line 2: no media item matches 'gone.png' (give media_id or file)"]
    svc = Service(Config(data_dir=tmp_path / "cli"), start_jobs=False)
    try:
        prediction = svc.predictions.get(line["media_id"])
        names = {lb.name: lb for lb in prediction.labels}
        cat = next(lb for lb in line["labels"] if lb["Name"] == "Cat")
        assert names["Cat"].confidence == pytest.approx(cat["Confidence"] / 100)
        assert names["Weapons"].category == "moderation" and prediction.model_version == line["model_version"]
    finally:
        svc.close()
