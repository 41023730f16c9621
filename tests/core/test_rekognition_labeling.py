"""Rekognition: our JSON against botocore's own service model, and the backend through a stubbed real client."""
from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.stub import ANY, Stubber
from botocore.validate import ParamValidator

from core.aws import AwsConfig
from core.domain import BoundingBox, Instance, Label
from core.formats import rekognition as fmt
from core.labelers import ImageRef, LabelingFailed
from core.labelers.rekognition import MAX_IMAGE_BYTES, RekognitionLabeler, make_client

LABELS = (
    Label("Person", 0.997, instances=(Instance(BoundingBox(0.1, 0.2, 0.3, 0.4), 0.99, "Person"),)),
    Label("Cat", 0.93, parents=("Mammal", "Animal")),
    Label("Weapons", 0.81, category="moderation", parent_name="Violence", taxonomy_level=2),
    Label("Violence", 0.81, category="moderation", taxonomy_level=1),
)


def output_shape(operation: str):
    model = botocore.session.get_session().get_service_model("rekognition")
    return model.operation_model(operation).output_shape


@pytest.mark.parametrize("operation, body", [
    ("DetectLabels", fmt.to_detect_labels(LABELS, "3.0")),
    ("DetectModerationLabels", fmt.to_detect_moderation_labels(LABELS, "7.0")),
])
def test_our_responses_match_botocores_rekognition_output_shapes(operation, body):
    report = ParamValidator().validate(body, output_shape(operation))
    assert not report.has_errors(), report.generate_report()
    assert set(body) <= set(output_shape(operation).members)


def test_confidence_is_0_to_100_outside_and_0_to_1_inside_and_survives_a_round_trip():
    body = fmt.to_detect_labels(LABELS)
    assert body["Labels"][0]["Name"] == "Person" and body["Labels"][0]["Confidence"] == pytest.approx(99.7)
    assert body["Labels"][0]["Instances"][0]["BoundingBox"] == {"Width": 0.3, "Height": 0.4, "Left": 0.1, "Top": 0.2}
    back = fmt.parse_detect_labels(body) + fmt.parse_detect_moderation_labels(fmt.to_detect_moderation_labels(LABELS))
    assert [(lb.name, round(lb.confidence, 4), lb.parents, lb.parent_name, lb.category) for lb in back] == \
        [(lb.name, lb.confidence, lb.parents, lb.parent_name, lb.category) for lb in LABELS]


def test_camel_case_moderation_labels_are_read_too():
    labels = fmt.parse_detect_moderation_labels({"moderationLabels": [{"name": "Weapons", "parentName": "Violence",
                                                                       "confidence": 91.2}]})
    assert labels == [Label("Weapons", pytest.approx(0.912), category="moderation", parent_name="Violence",
                            taxonomy_level=2)]


@pytest.fixture
def client():
    return make_client(AwsConfig(region="us-east-1", access_key_id="testing", secret_access_key="testing"))


def test_the_backend_sends_image_bytes_and_reads_both_responses(client):
    labeler = RekognitionLabeler(client)
    with Stubber(client) as stub:  # the Stubber checks our responses against the service model as well
        stub.add_response("detect_labels", fmt.to_detect_labels(LABELS, "3.0"),
                          {"Image": {"Bytes": b"jpeg-bytes"}, "MaxLabels": ANY, "MinConfidence": ANY})
        stub.add_response("detect_moderation_labels", fmt.to_detect_moderation_labels(LABELS, "7.0"),
                          {"Image": {"Bytes": b"jpeg-bytes"}, "MinConfidence": ANY})
        (prediction,) = labeler.predict([ImageRef("m1", data=b"jpeg-bytes")])
        stub.assert_no_pending_responses()
    assert prediction.source == "rekognition" and prediction.model_version == "rekognition labels 3.0/moderation 7.0"
    assert {lb.name for lb in prediction.labels} == {"Person", "Cat", "Weapons", "Violence"}


def test_the_backend_reads_images_stored_in_s3_by_reference(client):
    with Stubber(client) as stub:
        s3 = {"S3Object": {"Bucket": "media", "Name": "media/abc"}}
        stub.add_response("detect_labels", {"Labels": []}, {"Image": s3, "MaxLabels": ANY, "MinConfidence": ANY})
        stub.add_response("detect_moderation_labels", {"ModerationLabels": []}, {"Image": s3, "MinConfidence": ANY})
        (prediction,) = RekognitionLabeler(client).predict([ImageRef("abc", s3_bucket="media", s3_key="media/abc")])
    assert prediction.labels == ()


@pytest.mark.parametrize("code, words", [
    ("AccessDeniedException", "rekognition:DetectModerationLabels"),
    ("ThrottlingException", "throttling"),
    ("ImageTooLargeException", "too large"),
    ("InvalidImageFormatException", "JPEG and PNG"),
])
def test_aws_errors_are_said_in_plain_words_and_the_batch_goes_on(client, code, words):
    with Stubber(client) as stub:
        stub.add_client_error("detect_labels", service_error_code=code, service_message="nope")
        stub.add_response("detect_labels", {"Labels": []})
        stub.add_response("detect_moderation_labels", {"ModerationLabels": []})
        first, second = RekognitionLabeler(client).predict([ImageRef("a", data=b"x"), ImageRef("b", data=b"y")])
    assert isinstance(first, LabelingFailed) and words in str(first)
    assert second.media_id == "b"


def test_an_image_over_5_mb_is_refused_before_calling_aws(client):
    with Stubber(client):
        (result,) = RekognitionLabeler(client).predict([ImageRef("big", data=b"0" * (MAX_IMAGE_BYTES + 1))])
    assert isinstance(result, LabelingFailed) and "at most 5 MB" in str(result)


def test_missing_credentials_are_reported_plainly(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    session = boto3.session.Session(region_name="us-east-1")
    client = session.client("rekognition", endpoint_url="http://127.0.0.1:9")  # nothing leaves the machine
    (result,) = RekognitionLabeler(client).predict([ImageRef("a", data=b"x")])
    assert isinstance(result, LabelingFailed) and "No AWS credentials" in str(result)


def test_a_missing_region_is_reported_plainly_when_the_backend_is_chosen(monkeypatch, tmp_path):
    from core.config import Config
    from core.labelers import create

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(LabelingFailed, match="AWS_REGION"):
        create("rekognition", Config(data_dir=tmp_path))
