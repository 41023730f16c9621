"""The Rekognition labeler: DetectLabels and DetectModerationLabels through boto3, on image bytes or an
S3 object. Credentials, region and endpoint come from boto3's own chain (AWS_REGION, AWS_PROFILE, ...);
boto3's standard retry mode handles throttling before Loupe reports it.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from core.aws import AwsSettings
from core.aws import make_client as aws_client
from core.domain import Prediction
from core.formats import rekognition as fmt
from core.labelers import ImageRef, LabelingFailed

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Rekognition's limit for image bytes (S3 objects may be up to 15 MB)
MAX_LABELS = 50
MIN_CONFIDENCE_PCT = 50.0


def make_client(aws: AwsSettings | None = None):
    return aws_client("rekognition", aws, max_attempts=5)


class RekognitionLabeler:
    name = "rekognition"
    model_version = "rekognition"

    def __init__(self, client: Any = None):
        try:
            self.client = client if client is not None else make_client()
        except Exception as exc:  # e.g. NoRegionError: raised when the client is made, before any call
            raise LabelingFailed(explain_error(exc)) from exc

    def _image(self, ref: ImageRef) -> dict[str, Any]:
        if ref.s3_bucket and ref.s3_key:
            return {"S3Object": {"Bucket": ref.s3_bucket, "Name": ref.s3_key}}
        data = ref.read_bytes()
        if len(data) > MAX_IMAGE_BYTES:
            raise LabelingFailed(f"The image is {len(data) / 1048576:.1f} MB; Rekognition accepts at most 5 MB "
                                 "as bytes. Store media in S3 (LOUPE_STORE=dynamodb) or make the image smaller.")
        return {"Bytes": data}

    def predict(self, images: Sequence[ImageRef]) -> list[Prediction | LabelingFailed]:
        out: list[Prediction | LabelingFailed] = []
        for ref in images:
            try:
                image = self._image(ref)
                labels = self.client.detect_labels(Image=image, MaxLabels=MAX_LABELS, MinConfidence=MIN_CONFIDENCE_PCT)
                moderation = self.client.detect_moderation_labels(Image=image, MinConfidence=MIN_CONFIDENCE_PCT)
                found = fmt.parse_detect_labels(labels) + fmt.parse_detect_moderation_labels(moderation)
                version = (f"rekognition labels {labels.get('LabelModelVersion', '?')}/moderation "
                           f"{moderation.get('ModerationModelVersion', '?')}")
                out.append(Prediction(media_id=ref.media_id, model_version=version, labels=tuple(found),
                                      source="rekognition"))
            except LabelingFailed as exc:
                out.append(exc)
            except Exception as exc:  # botocore raises several unrelated types; say each in plain words
                out.append(LabelingFailed(explain_error(exc)))
        return out


def explain_error(exc: Exception) -> str:
    """A botocore error as a sentence a user can act on."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError, \
        PartialCredentialsError

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ("No AWS credentials were found for Rekognition. Configure them the usual boto3 way "
                "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance role), or use the local labeler.")
    if isinstance(exc, NoRegionError):
        return "No AWS region is set for Rekognition: set AWS_REGION (for example us-east-1)."
    if isinstance(exc, EndpointConnectionError):
        return f"Rekognition could not be reached ({exc}). Check the network or AWS_ENDPOINT_URL."
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException"):
            return ("AWS denied access to Rekognition: the credentials need rekognition:DetectLabels and "
                    f"rekognition:DetectModerationLabels (and s3:GetObject for S3 images). AWS said: {message or code}")
        if code in ("ThrottlingException", "ProvisionedThroughputExceededException", "LimitExceededException"):
            return ("Rekognition is throttling requests and still refused after boto3's retries. "
                    "Wait a minute and label the rest again, or ask AWS for a higher limit.")
        if code == "ImageTooLargeException":
            return "The image is too large for Rekognition (at most 5 MB as bytes, 15 MB from S3, 10,000 px a side)."
        if code == "InvalidImageFormatException":
            return "Rekognition cannot read this image format: it accepts JPEG and PNG only."
        if code == "InvalidS3ObjectException":
            return f"Rekognition could not read the image from S3: {message or code}"
        return f"Rekognition refused the request ({code}): {message}"
    return f"Rekognition failed: {type(exc).__name__}: {exc}"
