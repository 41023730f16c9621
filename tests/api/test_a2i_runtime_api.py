"""sagemaker-a2i-runtime through a real boto3 client: start, describe, list (paginated), stop, delete, output.json."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from core.formats.a2i import parse_output_json
from core.task_types.label_review import label_review_content
from tests.review_seed import DEMO

ROLE = "arn:aws:iam::111122223333:role/LoupeA2I"
CUSTOM_UI = "arn:aws:sagemaker:us-east-1:111122223333:human-task-ui/labels"
WORKTEAM = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team"


def output_bucket(service) -> str:
    """On the team backend output goes to S3, so to a bucket that exists there; locally any name will do."""
    return service.config.s3_bucket or "loupe-output"


def create_custom_flow(api, name: str = "label-check", task_count: int = 1) -> str:
    return api.client("sagemaker").create_flow_definition(
        FlowDefinitionName=name, RoleArn=ROLE, OutputConfig={"S3OutputPath": f"s3://{output_bucket(api.service)}/a2i/"},
        HumanLoopConfig={"WorkteamArn": WORKTEAM, "HumanTaskUiArn": CUSTOM_UI, "TaskTitle": "Check the labels",
                         "TaskDescription": "Keep the right labels", "TaskCount": task_count})["FlowDefinitionArn"]


def task_input(service, file: str = "cat.jpg") -> str:
    service.catalog.ingest_file(DEMO / file)
    return json.dumps({"taskObject": f"s3://{api_media_bucket(service)}/{file}", "note": "from a client"})


def api_media_bucket(service) -> str:
    """The bucket name under which clients name Loupe's media: LOUPE_S3_BUCKET, or "local" on the local store."""
    return service.config.s3_bucket or "local"


def test_a_loop_started_over_the_api_is_on_the_review_queue_at_once(api):
    a2i = api.client("sagemaker-a2i-runtime")
    flow_arn = create_custom_flow(api)
    arn = a2i.start_human_loop(HumanLoopName="loop-one", FlowDefinitionArn=flow_arn,
                               HumanLoopInput={"InputContent": task_input(api.service)},
                               DataAttributes={"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]}
                               )["HumanLoopArn"]
    assert arn.endswith(":human-loop/loop-one")
    described = a2i.describe_human_loop(HumanLoopName="loop-one")
    assert described["HumanLoopStatus"] == "InProgress" and described["FlowDefinitionArn"] == flow_arn
    assert isinstance(described["CreationTime"], datetime) and "HumanLoopOutput" not in described
    task = api.service.review.next_task("ana", task_type="label_review")
    assert task is not None and task.loop.loop_id == "loop-one"
    kept = api.service.a2i.describe("loop-one")
    assert kept.data_attributes == {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]}
    assert kept.created_by == "ada-admin"


def test_a_duplicate_loop_name_is_a_conflict_and_bad_requests_are_validation_errors(api):
    a2i = api.client("sagemaker-a2i-runtime")
    flow_arn = create_custom_flow(api)
    content = task_input(api.service)
    a2i.start_human_loop(HumanLoopName="same", FlowDefinitionArn=flow_arn, HumanLoopInput={"InputContent": content})
    with pytest.raises(a2i.exceptions.ConflictException):
        a2i.start_human_loop(HumanLoopName="same", FlowDefinitionArn=flow_arn, HumanLoopInput={"InputContent": content})
    bad = [("Upper_Case", flow_arn, content, "pattern"),  # botocore checks no patterns; the server does
           ("unknown-flow", flow_arn.replace("label-check", "nope"), content, "nope"),
           ("not-json", flow_arn, "{oops", "not JSON"),
           ("no-media", flow_arn, json.dumps({"taskObject": "s3://someone-elses-bucket/x.jpg"}), "own media")]
    for name, flow, body, words in bad:
        with pytest.raises(a2i.exceptions.ValidationException, match=words):
            a2i.start_human_loop(HumanLoopName=name, FlowDefinitionArn=flow, HumanLoopInput={"InputContent": body})
    assert [lp.loop_id for lp in api.service.loops.list()] == ["same"]


def test_list_human_loops_pages_sorts_and_filters_by_creation_time(api):
    a2i = api.client("sagemaker-a2i-runtime")
    flow_arn = create_custom_flow(api)
    content = task_input(api.service)
    names = [f"loop-{i}" for i in range(5)]
    for name in names:
        a2i.start_human_loop(HumanLoopName=name, FlowDefinitionArn=flow_arn, HumanLoopInput={"InputContent": content})
    paginator = a2i.get_paginator("list_human_loops")
    pages = list(paginator.paginate(FlowDefinitionArn=flow_arn, PaginationConfig={"PageSize": 2}))
    assert [len(p["HumanLoopSummaries"]) for p in pages] == [2, 2, 1]
    newest_first = [s["HumanLoopName"] for p in pages for s in p["HumanLoopSummaries"]]
    assert newest_first == names[::-1]
    ascending = paginator.paginate(FlowDefinitionArn=flow_arn, SortOrder="Ascending",
                                   PaginationConfig={"PageSize": 3}).build_full_result()
    assert [s["HumanLoopName"] for s in ascending["HumanLoopSummaries"]] == names
    third = api.service.a2i.describe("loop-2").created_at
    after = datetime.fromisoformat(third.replace("Z", "+00:00"))
    later = a2i.list_human_loops(FlowDefinitionArn=flow_arn, CreationTimeAfter=after, SortOrder="Ascending")
    assert [s["HumanLoopName"] for s in later["HumanLoopSummaries"]] == names[3:]
    future = datetime.now(UTC) + timedelta(days=1)
    assert a2i.list_human_loops(FlowDefinitionArn=flow_arn, CreationTimeAfter=future)["HumanLoopSummaries"] == []
    with pytest.raises(a2i.exceptions.ResourceNotFoundException):
        a2i.list_human_loops(FlowDefinitionArn=flow_arn.replace("label-check", "missing"))
    with pytest.raises(a2i.exceptions.ValidationException, match="NextToken"):
        a2i.list_human_loops(FlowDefinitionArn=flow_arn, NextToken="not-ours")


def test_stop_takes_a_loop_off_the_pages_and_delete_needs_it_finished(api):
    a2i = api.client("sagemaker-a2i-runtime")
    flow_arn = create_custom_flow(api)
    a2i.start_human_loop(HumanLoopName="to-stop", FlowDefinitionArn=flow_arn,
                         HumanLoopInput={"InputContent": task_input(api.service)})
    with pytest.raises(a2i.exceptions.ValidationException, match="in progress"):
        a2i.delete_human_loop(HumanLoopName="to-stop")
    a2i.stop_human_loop(HumanLoopName="to-stop")
    assert a2i.describe_human_loop(HumanLoopName="to-stop")["HumanLoopStatus"] == "Stopped"
    assert api.service.review.next_task("ana", task_type="label_review") is None
    a2i.stop_human_loop(HumanLoopName="to-stop")  # stopping again changes nothing
    a2i.delete_human_loop(HumanLoopName="to-stop")
    with pytest.raises(a2i.exceptions.ResourceNotFoundException):
        a2i.describe_human_loop(HumanLoopName="to-stop")
    with pytest.raises(a2i.exceptions.ResourceNotFoundException):
        a2i.stop_human_loop(HumanLoopName="to-stop")


def test_a_completed_loop_has_its_output_json_in_a2is_layout_at_output_s3_uri(api):
    a2i = api.client("sagemaker-a2i-runtime")
    flow_arn = create_custom_flow(api)
    a2i.start_human_loop(HumanLoopName="answered", FlowDefinitionArn=flow_arn,
                         HumanLoopInput={"InputContent": task_input(api.service)})
    task = api.service.review.next_task("ben", task_type="label_review")
    api.service.review.submit(task, label_review_content([("Cat", 0.9)], ["Whiskers"], [], (64, 48), is_blind=False))
    described = a2i.describe_human_loop(HumanLoopName="answered")
    assert described["HumanLoopStatus"] == "Completed"
    uri = described["HumanLoopOutput"]["OutputS3Uri"]
    created = described["CreationTime"].astimezone(UTC)
    if api.service.config.s3_bucket:  # the team backend writes to S3
        assert uri.startswith(f"s3://{output_bucket(api.service)}/a2i/label-check/")
        s3 = api.service.a2i.outputs._client()
        bucket, key = uri[5:].split("/", 1)
        doc = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    else:
        path = Path(urlparse(uri).path)
        assert uri.startswith("file://") and path.is_file()
        assert "/a2i-output/loupe-output/a2i/label-check/" in uri
        doc = json.loads(path.read_text())
    assert re.search(rf"/label-check/{created:%Y/%m/%d/%H/%M/%S}/answered/output\.json$", uri)
    assert doc["flowDefinitionArn"] == flow_arn and doc["humanLoopName"] == "answered"
    assert doc["inputContent"] == {"taskObject": f"s3://{api_media_bucket(api.service)}/cat.jpg",
                                   "note": "from a client"}  # as it was sent
    (answer,) = doc["humanAnswers"]
    assert answer["workerId"] == "ben"
    assert {lb["name"] for lb in answer["answerContent"]["labels"]} == {"Cat", "Whiskers"}
    assert set(answer) >= {"acceptanceTime", "submissionTime", "timeSpentInSeconds", "workerMetadata"}
    assert parse_output_json(doc).answers[0].worker_id == "ben"
