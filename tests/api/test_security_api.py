"""Who may call what: SigV4 refusals with AWS's codes (and nothing written), roles, body limits, no media served."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from core.api_keys import ApiKey
from tests.api.test_a2i_runtime_api import create_custom_flow, task_input
from tests.review_seed import DEMO


def raw_call(url: str, key: ApiKey, target: str, payload: dict, *, signed_at: datetime | None = None,
             sent_body: bytes | None = None) -> tuple[int, dict]:
    """A JSON-protocol request signed with botocore's signer at a chosen time (boto3 always signs 'now'),
    optionally sending a different body than the one signed."""
    body = json.dumps(payload).encode()
    request = AWSRequest(method="POST", url=url + "/", data=body,
                         headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
    stamp = (signed_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    request.context["timestamp"] = stamp
    request.headers["X-Amz-Date"] = stamp
    signer = SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "sagemaker", "us-east-1")
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    request.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
                                        f"SignedHeaders={signed}, Signature={signature}")
    sent = urllib.request.Request(url + "/", data=sent_body if sent_body is not None else body,
                                  headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def test_unsigned_unknown_revoked_and_wrongly_signed_requests_are_refused_and_write_nothing(api):
    sagemaker = api.client("sagemaker")
    create_custom_flow(api)
    before = api.service.records.count("workflow")
    unsigned = boto3.client("sagemaker", endpoint_url=api.url, region_name="us-east-1",
                            config=BotoConfig(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    revoked = api.service.api_keys.create("gone", "admin")
    api.service.api_keys.revoke(revoked.access_key_id)
    unknown = ApiKey("LPKNOSUCHKEY00000000", "nobody", "admin", secret_access_key="x" * 40)
    callers = {
        "MissingAuthenticationTokenException": unsigned,
        "UnrecognizedClientException": api.client("sagemaker", unknown),
        "InvalidSignatureException": api.client("sagemaker", secret="not-the-secret"),
    }
    for expected, client in callers.items():
        with pytest.raises(ClientError) as caught:
            client.create_flow_definition(FlowDefinitionName="sneaky", RoleArn="arn:aws:iam::1:role/x",
                                          OutputConfig={"S3OutputPath": "s3://b/p"})
        assert error_code(caught.value) == expected
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError, match="revoked") as caught:
        api.client("sagemaker", revoked).list_flow_definitions()
    assert error_code(caught.value) == "UnrecognizedClientException"
    assert api.service.records.count("workflow") == before
    assert sagemaker.list_flow_definitions()["FlowDefinitionSummaries"]  # the admin key still works


def test_a_timestamp_more_than_15_minutes_off_or_a_swapped_body_is_refused(api):
    target = "SageMaker.ListFlowDefinitions"
    status, _ = raw_call(api.url, api.admin, target, {})
    assert status == 200  # the hand-signed request is right when sent as signed
    for minutes in (-16, 16):
        status, body = raw_call(api.url, api.admin, target, {},
                                signed_at=datetime.now(UTC) + timedelta(minutes=minutes))
        assert (status, body["__type"]) == (403, "InvalidSignatureException") and "expired" in body["message"]
    status, _ = raw_call(api.url, api.admin, target, {}, signed_at=datetime.now(UTC) - timedelta(minutes=14))
    assert status == 200
    status, body = raw_call(api.url, api.admin, "SageMaker.DeleteFlowDefinition", {"FlowDefinitionName": "a"},
                            sent_body=json.dumps({"FlowDefinitionName": "b"}).encode())
    assert (status, body["__type"]) == (403, "InvalidSignatureException")


def test_a_client_key_runs_loops_and_rekognition_but_only_an_admin_key_manages_flow_definitions(api):
    flow_arn = create_custom_flow(api)
    sagemaker = api.client("sagemaker", api.client_key)
    a2i = api.client("sagemaker-a2i-runtime", api.client_key)
    for call in (lambda: sagemaker.create_flow_definition(FlowDefinitionName="mine", RoleArn="arn:aws:iam::1:role/x",
                                                          OutputConfig={"S3OutputPath": "s3://b/p"}),
                 lambda: sagemaker.delete_flow_definition(FlowDefinitionName="label-check"),
                 lambda: sagemaker.describe_flow_definition(FlowDefinitionName="label-check")):
        with pytest.raises(ClientError, match="client role") as caught:
            call()
        assert error_code(caught.value) == "AccessDeniedException"
    a2i.start_human_loop(HumanLoopName="by-client", FlowDefinitionArn=flow_arn,
                         HumanLoopInput={"InputContent": task_input(api.service)})
    assert a2i.describe_human_loop(HumanLoopName="by-client")["HumanLoopStatus"] == "InProgress"
    assert len(a2i.list_human_loops(FlowDefinitionArn=flow_arn)["HumanLoopSummaries"]) == 1
    a2i.stop_human_loop(HumanLoopName="by-client")
    with pytest.raises(ClientError) as caught:
        a2i.delete_human_loop(HumanLoopName="by-client")
    assert error_code(caught.value) == "AccessDeniedException"
    assert api.service.a2i.describe("by-client").created_by == "app-client"  # the key's name is the identity
    labels = api.client("rekognition", api.client_key).detect_labels(Image={"Bytes": (DEMO / "cat.jpg").read_bytes()})
    assert labels["Labels"]


def test_request_bodies_over_the_limit_are_refused_before_they_are_read(api_factory):
    api = api_factory(max_body_bytes=64 * 1024)
    rekognition = api.client("rekognition")
    with pytest.raises(ClientError) as caught:
        rekognition.detect_labels(Image={"Bytes": b"\xff\xd8\xff" + b"0" * 100_000})
    assert error_code(caught.value) == "RequestEntityTooLargeException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert api.service.records.count("media") == 0


def test_the_api_serves_no_media_and_names_unknown_operations(api):
    media_id = api.service.catalog.ingest_file(DEMO / "cat.jpg").media_id
    for path in (f"/media/{media_id[:2]}/{media_id}", "/", "/_stcore/health"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(api.url + path, timeout=5)
        assert caught.value.code == 403
        assert json.loads(caught.value.read())["__type"] == "MissingAuthenticationTokenException"
    status, body = raw_call(api.url, api.admin, "SageMaker.CreateTrainingJob", {})
    assert (status, body["__type"]) == (400, "UnknownOperationException")
