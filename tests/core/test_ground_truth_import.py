"""Ground Truth output manifests read as human answers: classification (single and multi-label), boxes, each
way of naming the image, and bad lines reported by their number."""
from __future__ import annotations

import json

from core.cli import main as cli_main
from tests.core.labeling_fixtures import ASTRONAUT, CAT, COFFEE

MULTI = {"source-ref": "s3://bucket/photos/chelsea.png", "animals": [0, 2],
         "animals-metadata": {"job-name": "labeling-job/animals", "class-map": {"0": "Cat", "1": "Dog", "2": "Pet"},
                              "human-annotated": "yes", "type": "groundtruth/image-classification-multilabel",
                              "confidence-map": {"0": 0.95, "2": 0.8}, "creation-date": "2020-02-27T21:36:25"}}
SINGLE = {"source-ref": "coffee.png", "drink": 1,
          "drink-metadata": {"class-name": "Coffee", "confidence": 0.9, "type": "groundtruth/image-classification",
                             "job-name": "labeling-job/drink", "human-annotated": "yes"}}
BOXES = {"source-ref": str(ASTRONAUT), "people": {"image_size": [{"width": 512, "height": 512, "depth": 3}],
         "annotations": [{"class_id": 0, "left": 128, "top": 64, "width": 256, "height": 384}]},
         "people-metadata": {"objects": [{"confidence": 0.8}], "class-map": {"0": "Person"},
                             "type": "groundtruth/object-detection", "human-annotated": "yes"}}


def test_each_kind_of_manifest_line_becomes_a_reviewed_answer_and_ground_truth(service):
    service.catalog.ingest_file(CAT)
    service.catalog.ingest_file(COFFEE)
    text = "\n".join(json.dumps(x) for x in (MULTI, SINGLE, BOXES))
    report = service.ground_truth.import_text(text, workflow="imported-labels")
    assert report.errors == [] and report.imported == 3
    truth = {service.catalog.get(m).file_name: labels for m, labels in service.consolidation.accepted_labels().items()}
    assert truth == {"chelsea.png": {"Cat", "Pet"}, "coffee.png": {"Coffee"}, "astronaut.png": {"Person"}}
    astronaut = service.catalog.find("astronaut.png")  # a local path is ingested on the way
    result = service.consolidation.get(astronaut.media_id, "imported-labels")
    assert [(b.label, b.box.left, b.box.width) for b in result.boxes] == [("Person", 0.25, 0.5)]
    assert service.catalog.get(astronaut.media_id).status == "reviewed"
    again = service.ground_truth.import_text(text, workflow="imported-labels")
    assert (again.imported, again.unchanged, again.errors) == (0, 3, [])


def test_bad_lines_are_reported_by_line_number_and_the_rest_are_imported(service):
    service.catalog.ingest_file(CAT)
    lines = [json.dumps(MULTI), "{not json", json.dumps({"source-ref": "chelsea.png"}),
             json.dumps({**MULTI, "animals": [7]}), "", json.dumps({**SINGLE, "source-ref": "missing.png"})]
    report = service.ground_truth.import_text("\n".join(lines))
    assert report.imported == 1 and report.workflow == "ground-truth"
    assert report.errors == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 3: no labeling attribute (a key with a matching \"-metadata\" object)",
        "line 4: attribute 'animals': class id '7' is not in its class-map",
        "line 6: no ingested item is named 'missing.png' (ingest the images first, or give a local path)"]


def test_the_import_ground_truth_command_exits_1_when_a_line_was_skipped(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "cli"))
    assert cli_main(["ingest", str(CAT)]) == 0
    manifest = tmp_path / "output.manifest"
    manifest.write_text(json.dumps(MULTI) + "\n" + json.dumps(SINGLE) + "\n")
    capsys.readouterr()
    assert cli_main(["import-ground-truth", str(manifest), "--workflow", "gt-labels", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == 1 and out["workflow"] == "gt-labels" and out["errors"][0].startswith("line 2: ")
