"""The Amazon Transcribe backend with real boto3 clients: S3 on moto, Transcribe through botocore's Stubber."""
from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from core.errors import LoupeError
from core.transcribers.aws import AmazonTranscriber, s3_location
from tests.core.test_transcribe_format import AWS_SAMPLE

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="media")
        transcribe = boto3.client("transcribe", region_name=REGION)
        with Stubber(transcribe) as stub:
            yield s3, transcribe, stub


def _job(status: str, **extra) -> dict:
    return {"TranscriptionJob": {"TranscriptionJobName": "x", "TranscriptionJobStatus": status, **extra}}


def test_a_job_uploads_the_media_polls_and_reads_the_output(aws):
    s3, transcribe, stub = aws
    s3.put_object(Bucket="media", Key="out/result.json", Body=json.dumps(AWS_SAMPLE).encode())
    stub.add_response("start_transcription_job", _job("QUEUED"),
                      {"TranscriptionJobName": ANY, "Media": ANY, "MediaFormat": "wav", "OutputBucketName": "media",
                       "OutputKey": ANY, "IdentifyLanguage": True})
    stub.add_response("get_transcription_job", _job("IN_PROGRESS"), {"TranscriptionJobName": ANY})
    stub.add_response("get_transcription_job", _job(
        "COMPLETED", LanguageCode="en-US",
        Transcript={"TranscriptFileUri": f"https://s3.{REGION}.amazonaws.com/media/out/result.json"}),
        {"TranscriptionJobName": ANY})
    polls = []
    transcriber = AmazonTranscriber("media", s3=s3, transcribe=transcribe, sleep=polls.append, poll_s=2.0)
    transcript = transcriber.transcribe(ROOT / "demo" / "welcome.wav", progress=lambda s: None)
    stub.assert_no_pending_responses()
    assert transcript.text == "Welcome to Amazon Transcribe." and transcript.language == "en-US"
    assert transcript.model_version == "amazon-transcribe" and transcript.words[2].confidence == 0.5
    uploaded = [o["Key"] for o in s3.list_objects_v2(Bucket="media", Prefix="loupe-transcribe/")["Contents"]]
    assert len(uploaded) == 1 and uploaded[0].endswith(".wav")
    assert polls == [2.0]


def test_a_failed_job_gives_its_reason(aws):
    s3, transcribe, stub = aws
    stub.add_response("start_transcription_job", _job("QUEUED"))
    stub.add_response("get_transcription_job", _job("FAILED", FailureReason="The media format is not supported."))
    transcriber = AmazonTranscriber("media", s3=s3, transcribe=transcribe, sleep=lambda s: None)
    with pytest.raises(LoupeError, match="The media format is not supported"):
        transcriber.transcribe(ROOT / "demo" / "welcome.wav", language="en")


def test_an_aws_error_becomes_a_plain_loupe_error(aws):
    s3, transcribe, stub = aws
    stub.add_client_error("start_transcription_job", "LimitExceededException", "Too many jobs.")
    transcriber = AmazonTranscriber("media", s3=s3, transcribe=transcribe, sleep=lambda s: None)
    with pytest.raises(LoupeError, match="Amazon Transcribe is throttling"):
        transcriber.transcribe(ROOT / "demo" / "welcome.wav")


def test_unsupported_media_is_refused_before_anything_is_uploaded(aws):
    s3, transcribe, _ = aws
    with pytest.raises(LoupeError, match="does not accept"):
        AmazonTranscriber("media", s3=s3, transcribe=transcribe).transcribe(ROOT / "demo" / "cat.jpg",
                                                                           media_format="jpeg")


@pytest.mark.parametrize("uri,expected", [
    ("s3://b/k/x.json", ("b", "k/x.json")),
    ("https://s3.us-east-1.amazonaws.com/b/k/x.json", ("b", "k/x.json")),
    ("https://b.s3.eu-west-1.amazonaws.com/k/x.json", ("b", "k/x.json")),
])
def test_output_locations_are_read_in_every_s3_url_style(uri, expected):
    assert s3_location(uri) == expected
