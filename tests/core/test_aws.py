"""One AWS error translator for every AWS call: the words it gives, and each caller (Rekognition, Transcribe, the S3
media store, the DynamoDB record store, S3 exports) saying a missing credential or a denied call in those words."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError
from botocore.stub import Stubber
from moto import mock_aws

from core.aws import AwsConfig, aws_error_message, explain_aws_error
from core.config import Config
from core.errors import LoupeError, StoreUnavailable
from core.labelers import ImageRef
from core.labelers.rekognition import RekognitionLabeler
from core.service import Service
from core.stores.dynamodb import DynamoDBRecordStore
from core.stores.s3 import S3BlobStore
from core.transcribers.aws import AmazonTranscriber

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "http://127.0.0.1:9"  # nothing listens there: no test call leaves the machine


def _client_error(code: str, message: str = "nope", status: int = 400, **error) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message, **error},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "SomeOperation")


@pytest.mark.parametrize("exc, words", [
    (NoCredentialsError(), "No AWS credentials found for Rekognition"),
    (NoRegionError(), "Set AWS_REGION"),
    (EndpointConnectionError(endpoint_url="http://db:8000"), "Cannot reach Rekognition at http://db:8000"),
    (_client_error("AccessDeniedException", "not authorized"),
     "Access denied to Rekognition. The credentials need rekognition:DetectLabels and s3:GetObject. "
     "AWS said: not authorized"),
    (_client_error("UnrecognizedClientException"), "AWS rejected the credentials"),
    (_client_error("ThrottlingException"), "throttling"),
    (_client_error("ResourceNotFoundException"), "does not exist. Create it with `python -m core setup-aws`"),
    (_client_error("NoSuchBucket", BucketName="media"), "S3 bucket 'media' does not exist"),
    (_client_error("InvalidImageFormatException", "bad bytes"), "JPEG and PNG only. AWS said: bad bytes"),
    (S3UploadFailedError("Failed to upload"), None),  # no cause to read: not said in words
])
def test_the_translator_says_what_to_do(exc, words):
    said = explain_aws_error(exc, what="Rekognition", permissions=("rekognition:DetectLabels", "s3:GetObject"),
                             codes={"InvalidImageFormatException": "Rekognition accepts JPEG and PNG only."})
    assert said == words if words is None else words in said


def test_access_denied_without_permission_names_points_at_the_docs_policy():
    said = explain_aws_error(_client_error("AccessDenied", status=403), what="S3")
    assert "IAM policy in the docs (docs/team-backend.md)" in said


def test_an_error_the_translator_does_not_know_is_left_to_raise_or_said_as_aws_said_it():
    odd = _client_error("ValidationException", "One or more parameter values were invalid")
    assert explain_aws_error(odd, what="DynamoDB table 't'") is None
    assert aws_error_message(odd, what="Rekognition") == \
        "Rekognition refused the request (ValidationException): One or more parameter values were invalid"


def test_boto3s_upload_wrapper_is_read_through_to_the_aws_error():
    try:
        try:
            raise _client_error("AccessDenied", status=403)
        except ClientError:
            raise S3UploadFailedError("Failed to upload x to b/k")  # noqa: B904  (as boto3 raises it: context only)
    except S3UploadFailedError as wrapped:
        assert explain_aws_error(wrapped, what="S3 bucket 'b'").startswith("Access denied to S3 bucket 'b'")


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """An environment where boto3 finds no credentials at all, and any endpoint is one nothing listens on."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", NOWHERE)


def test_an_s3_export_without_credentials_fails_in_words_not_as_an_unexpected_error(no_credentials, tmp_path):
    service = Service(Config(data_dir=tmp_path / "data", export_s3_prefix="s3://results/exports"))  # only the
    try:  # export needs AWS (local store)
        with pytest.raises(LoupeError, match="No AWS credentials found for S3 bucket 'results'"):
            service.exports.export("csv", "s3://results/run1")
        job = service.exports.submit("csv", "run1", to_s3=True)
        done = service.jobs.wait(job.job_id, timeout_s=30)
    finally:
        service.close()
    assert done.status == "failed" and done.error.startswith("No AWS credentials found for S3 bucket 'results'")


def test_an_s3_export_denied_access_names_the_permission(monkeypatch, tmp_path):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    service = Service(Config(data_dir=tmp_path / "data"), start_jobs=False)
    try:
        with mock_aws(), pytest.raises(LoupeError, match="S3 bucket 'absent' does not exist"):
            service.exports.export("csv", "s3://absent/run1")
    finally:
        service.close()


def test_rekognition_names_the_permissions_it_needs_when_denied():
    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error("detect_labels", "AccessDeniedException", "not authorized", http_status_code=400)
        (result,) = RekognitionLabeler(client).predict([ImageRef("a", data=b"x")])
    assert "rekognition:DetectLabels" in str(result) and "rekognition:DetectModerationLabels" in str(result)
    assert "AWS said: not authorized" in str(result)


def test_amazon_transcribe_without_credentials_says_so(no_credentials):
    transcriber = AmazonTranscriber("media")
    with pytest.raises(LoupeError, match="No AWS credentials found for S3 bucket 'media'"):
        transcriber.transcribe(ROOT / "demo" / "welcome.wav")


def test_amazon_transcribe_denied_access_names_its_permissions(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="media")
        transcribe = boto3.client("transcribe", region_name="us-east-1")
        with Stubber(transcribe) as stub:
            stub.add_client_error("start_transcription_job", "AccessDeniedException", "no", http_status_code=400)
            with pytest.raises(LoupeError,
                               match="Access denied to Amazon Transcribe.*transcribe:StartTranscriptionJob"):
                AmazonTranscriber("media", s3=s3, transcribe=transcribe).transcribe(ROOT / "demo" / "welcome.wav")
        with pytest.raises(LoupeError, match="S3 bucket 'gone' does not exist"):
            AmazonTranscriber("gone", s3=s3, transcribe=transcribe).transcribe(ROOT / "demo" / "welcome.wav")


def test_the_s3_media_store_without_credentials_is_unavailable_in_words(no_credentials, tmp_path):
    blobs = S3BlobStore("media", tmp_path / "cache", aws=AwsConfig(region="us-east-1"))
    with pytest.raises(StoreUnavailable, match="No AWS credentials found for S3 bucket 'media'"):
        blobs.exists("0" * 64)


def test_the_dynamodb_store_without_credentials_is_unavailable_in_words(no_credentials):
    records = DynamoDBRecordStore("loupe", aws=AwsConfig(region="us-east-1"))
    with pytest.raises(StoreUnavailable, match="No AWS credentials found for DynamoDB table 'loupe'"):
        records.get("media", "x")
