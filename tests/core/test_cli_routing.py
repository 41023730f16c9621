"""`python -m core conditions ...`, `route` and `flow-definition` as a user runs them, in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.config import Config
from core.domain import Label, Prediction, Workflow
from core.routing import workflow_with_thresholds
from core.routing_policy import Thresholds
from core.service import Service

ROOT = Path(__file__).resolve().parents[2]


def _run(args, data_dir):
    env = {**os.environ, "LOUPE_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


CONDITIONS = {"Conditions": [{"Or": [
    {"ConditionType": "ModerationLabelConfidenceCheck",
     "ConditionParameters": {"ModerationLabelName": "Graphic Male Nudity", "ConfidenceLessThan": 60}},
    {"And": [{"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 5}},
             {"ConditionType": "ModerationLabelConfidenceCheck",
              "ConditionParameters": {"ModerationLabelName": "Graphic Male Nudity", "ConfidenceGreaterThan": 90}}]}]}]}


def test_conditions_validate_and_evaluate_a_rekognition_response(tmp_path):
    good = tmp_path / "conditions.json"
    good.write_text(json.dumps(CONDITIONS))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Conditions": [{"ConditionType": "Sampling",
                                               "ConditionParameters": {"RandomSamplingPercentage": 0}}]}))
    response = tmp_path / "response.json"
    response.write_text(json.dumps({"ModerationLabels": [
        {"Confidence": 55.5, "Name": "Graphic Male Nudity", "ParentName": "Explicit Nudity", "TaxonomyLevel": 2},
        {"Confidence": 80.1, "Name": "Explicit Nudity", "ParentName": "", "TaxonomyLevel": 1}],
        "ModerationModelVersion": "6.1"}))

    assert _run(["conditions", "validate", str(good)], tmp_path / "data").returncode == 0
    invalid = _run(["conditions", "validate", str(bad)], tmp_path / "data")
    assert invalid.returncode == 2
    assert "RandomSamplingPercentage must be between 0.01 and 100, not 0" in invalid.stderr

    out = _run(["conditions", "evaluate", str(good), str(response), "--id", "img-7"], tmp_path / "data")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["activated"] is True and result["reasons"] == ["Graphic Male Nudity"]
    top = result["humanTaskActivationConditionResults"]["Conditions"][0]
    assert top["EvaluationResult"] is True and top["Or"][0]["EvaluationResult"] is True


def test_route_creates_the_loops_once_and_prints_counts(tmp_path):
    data = tmp_path / "data"
    service = Service(Config(data_dir=data), start_jobs=False)
    service.predictions.save_many([
        Prediction(f"item-{i}", "m-1", (Label("Weapons", 0.3 if i % 4 == 0 else 0.95, category="moderation"),))
        for i in range(40)])
    service.workflows.save(workflow_with_thresholds(Workflow(name="weapons"), Thresholds(high=0.5), ["Weapons"]))
    service.close()

    first = _run(["route", "--workflow", "weapons", "--json"], data)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"workflow": "weapons", "created": 10, "already_existed": 0, "review": 10,
                                        "audit": 0}
    again = _run(["route", "--workflow", "weapons"], data)
    assert "0 human loops created, 10 already existed" in again.stdout
    missing = _run(["route", "--workflow", "nope"], data)
    assert missing.returncode == 2 and "No workflow with id 'nope'" in missing.stderr
    flow = _run(["flow-definition", "weapons"], data)
    assert json.loads(flow.stdout)["FlowDefinitionName"] == "weapons"
