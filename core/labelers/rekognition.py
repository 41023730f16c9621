"""The Rekognition labeler: DetectLabels and DetectModerationLabels through boto3, on image bytes or an
S3 object. Credentials, region and endpoint come from boto3's own chain (AWS_REGION, AWS_PROFILE, ...);
boto3's standard retry mode handles throttling before Loupe reports it.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from core.aws import AwsConfig, aws_error_message
from core.aws import make_client as aws_client
from core.domain import Prediction
from core.formats import rekognition as fmt
from core.labelers import ImageRef, LabelingFailed

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Rekognition's limit for image bytes (S3 objects may be up to 15 MB)
MAX_LABELS = 50
MIN_CONFIDENCE_PCT = 50.0
PERMISSIONS = ("rekognition:DetectLabels", "rekognition:DetectModerationLabels", "s3:GetObject (for images in S3)")
ERROR_CODES = {
    "ImageTooLargeException": "The image is too large for Rekognition (at most 5 MB as bytes, 15 MB from S3, "
                              "10,000 px a side).",
    "InvalidImageFormatException": "Rekognition cannot read this image format: it accepts JPEG and PNG only.",
    "InvalidS3ObjectException": "Rekognition could not read the image from S3.",
}


def make_client(aws: AwsConfig | None = None):
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
    """A botocore error as a sentence a user can act on (core.aws's translator, with Rekognition's own codes)."""
    return aws_error_message(exc, what="Rekognition", permissions=PERMISSIONS, codes=ERROR_CODES)
