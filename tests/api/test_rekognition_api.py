"""rekognition through a real boto3 client: the configured labeler on bytes or Loupe's S3 objects, Rekognition's
error codes, and HumanLoopConfig deciding exactly as the Thresholds page does on AWS's documented examples."""
from __future__ import annotations

import hashlib
import json

import pytest

from core.conditions import evaluate, is_sampled, labels_from_response
from tests.api.test_a2i_runtime_api import create_custom_flow
from tests.api.test_sagemaker_api import create_moderation_flow
from tests.core.test_conditions import EXAMPLE_1, EXAMPLE_2, EXAMPLE_3, EXAMPLE_4, EXAMPLE_5, EXAMPLE_6
from tests.media_factory import make_image
from tests.review_seed import DEMO

EXAMPLES = [EXAMPLE_1, EXAMPLE_2, EXAMPLE_3, EXAMPLE_4, EXAMPLE_5, EXAMPLE_6]


def test_detect_labels_runs_the_labeler_on_bytes_and_on_loupes_own_s3_objects(api):
    rekognition = api.client("rekognition")
    cat = (DEMO / "cat.jpg").read_bytes()
    out = rekognition.detect_labels(Image={"Bytes": cat}, MaxLabels=3, MinConfidence=50)
    assert [lb["Name"] for lb in out["Labels"]][:1] == ["Animal"] and len(out["Labels"]) <= 3
    assert all(lb["Confidence"] >= 50 for lb in out["Labels"]) and out["LabelModelVersion"].startswith("loupe-local")
    item = api.service.catalog.get(hashlib.sha256(cat).hexdigest())  # ingested, labeled and on the Images page
    assert item.created_by == "ada-admin" and api.service.predictions.get(item.media_id) is not None
    bucket = api.service.config.s3_bucket or "local"
    by_name = rekognition.detect_labels(Image={"S3Object": {"Bucket": bucket, "Name": item.file_name}})
    by_key = rekognition.detect_labels(Image={"S3Object": {"Bucket": bucket, "Name": f"media/{item.media_id}"}})
    assert by_name["Labels"] == by_key["Labels"] and by_name["Labels"][0]["Name"] == "Animal"


def test_bad_images_and_foreign_objects_get_rekognitions_error_codes(api):
    rekognition = api.client("rekognition")
    with pytest.raises(rekognition.exceptions.InvalidImageFormatException):
        rekognition.detect_moderation_labels(Image={"Bytes": b"this is not an image at all"})
    with pytest.raises(rekognition.exceptions.InvalidS3ObjectException, match="own media"):
        rekognition.detect_labels(Image={"S3Object": {"Bucket": "someone-elses-bucket", "Name": "cat.jpg"}})
    with pytest.raises(rekognition.exceptions.ImageTooLargeException):
        rekognition.detect_labels(Image={"Bytes": b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)})
    with pytest.raises(rekognition.exceptions.InvalidParameterException, match="MinConfidence"):
        rekognition.detect_labels(Image={"Bytes": (DEMO / "cat.jpg").read_bytes()}, MinConfidence=101)
    flow = create_custom_flow(api, "custom-flow")
    with pytest.raises(rekognition.exceptions.InvalidParameterException, match="custom task type"):
        rekognition.detect_moderation_labels(Image={"Bytes": (DEMO / "cat.jpg").read_bytes()},
                                             HumanLoopConfig={"HumanLoopName": "x", "FlowDefinitionArn": flow})
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.detect_moderation_labels(Image={"Bytes": (DEMO / "cat.jpg").read_bytes()}, HumanLoopConfig={
            "HumanLoopName": "x", "FlowDefinitionArn": flow.replace("custom-flow", "missing")})
    assert api.service.records.count("media") == 0  # nothing was ingested before the request was known good


def images(tmp_path, n_sampled: int = 1, n_other: int = 3) -> list[bytes]:
    """The demo photos plus synthetic images picked so that AWS's 5% samples take some and leave others."""
    picked, sampled, other, seed = [(DEMO / f).read_bytes() for f in ("cat.jpg", "coffee.jpg", "rocket.jpg")], 0, 0, 0
    while sampled < n_sampled or other < n_other:
        data = make_image(tmp_path / f"s{seed}.png", size=(96, 64), fmt="PNG", seed=seed).read_bytes()
        hit = is_sampled(hashlib.sha256(data).hexdigest(), 5)
        if (hit and sampled < n_sampled) or (not hit and other < n_other):
            picked.append(data)
            sampled, other = sampled + hit, other + (not hit)
        seed += 1
    return picked


def test_awss_documented_conditions_decide_over_the_api_as_in_core_and_on_the_thresholds_page(api, tmp_path):
    rekognition = api.client("rekognition")
    sagemaker = api.client("sagemaker")
    pictures = images(tmp_path)
    decisions = []
    for n, example in enumerate(EXAMPLES, start=1):
        flow = create_moderation_flow(sagemaker, f"aws-example-{n}", example, task_count=1)
        started = set()
        for i, data in enumerate(pictures):
            out = rekognition.detect_moderation_labels(Image={"Bytes": data}, MinConfidence=0, HumanLoopConfig={
                "HumanLoopName": f"example-{n}-image-{i}", "FlowDefinitionArn": flow})
            media_id = hashlib.sha256(data).hexdigest()
            expected = evaluate(example, labels_from_response(out), media_id)
            activation = out["HumanLoopActivationOutput"]
            assert ("HumanLoopArn" in activation) is expected.activated
            assert json.loads(activation["HumanLoopActivationConditionsEvaluationResults"]) == expected.results
            if expected.activated:
                assert activation["HumanLoopActivationReasons"] == ["ConditionsEvaluation"]
                started.add(media_id)
            decisions.append(expected.activated)
        routed = api.service.loop_starter.start_loops(f"aws-example-{n}")  # the Thresholds page's "start loops"
        assert set(routed.media_ids) == started, f"example {n}"
    assert any(decisions) and not all(decisions)


def test_without_a_human_loop_config_there_is_no_activation_output_and_a_started_loop_is_on_the_task_page(api):
    rekognition = api.client("rekognition")
    out = rekognition.detect_moderation_labels(Image={"Bytes": (DEMO / "coffee.jpg").read_bytes()})
    assert "HumanLoopActivationOutput" not in out and out["ModerationModelVersion"]
    always = {"Conditions": [{"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": 100}}]}
    flow = create_moderation_flow(api.client("sagemaker"), "always", always, task_count=1)
    out = rekognition.detect_moderation_labels(Image={"Bytes": (DEMO / "coffee.jpg").read_bytes()}, HumanLoopConfig={
        "HumanLoopName": "coffee-check", "FlowDefinitionArn": flow,
        "DataAttributes": {"ContentClassifiers": ["FreeOfAdultContent"]}})
    assert out["HumanLoopActivationOutput"]["HumanLoopArn"].endswith("human-loop/coffee-check")
    task = api.service.review.next_task("ana", task_type="moderation")
    assert task.loop.loop_id == "coffee-check" and task.loop.media_id == hashlib.sha256(
        (DEMO / "coffee.jpg").read_bytes()).hexdigest()
    with pytest.raises(rekognition.exceptions.InvalidParameterException, match="already exists"):
        rekognition.detect_moderation_labels(Image={"Bytes": (DEMO / "coffee.jpg").read_bytes()}, HumanLoopConfig={
            "HumanLoopName": "coffee-check", "FlowDefinitionArn": flow})
