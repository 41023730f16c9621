"""Amazon Transcribe through boto3: upload the media to S3, start a job, poll it, and read its JSON output."""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from core.aws import aws_error_message, aws_error_types, make_client
from core.domain import Transcript
from core.errors import LoupeError
from core.formats.transcribe import parse_transcribe_json
from core.transcribers import Progress

log = logging.getLogger(__name__)

MEDIA_FORMATS = {"wav": "wav", "mp3": "mp3", "mp4": "mp4", "m4a": "mp4", "flac": "flac", "ogg": "ogg", "webm": "webm"}
PERMISSIONS = ("transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob", "s3:PutObject", "s3:GetObject")
LANGUAGE_CODES = {"en": "en-US", "de": "de-DE", "fr": "fr-FR", "es": "es-ES", "it": "it-IT", "pt": "pt-BR",
                  "nl": "nl-NL", "ja": "ja-JP", "zh": "zh-CN"}


class AmazonTranscriber:
    model_version = "amazon-transcribe"

    def __init__(self, bucket: str, *, s3=None, transcribe=None, prefix: str = "loupe-transcribe/",
                 poll_s: float = 5.0, timeout_s: float = 4 * 3600, sleep: Callable[[float], None] = time.sleep):
        self.bucket = bucket
        try:
            self.s3 = s3 or make_client("s3")
            self.client = transcribe or make_client("transcribe")
        except aws_error_types() as exc:  # NoRegionError and friends are raised when a client is made
            raise LoupeError(aws_error_message(exc, what="Amazon Transcribe", permissions=PERMISSIONS)) from exc
        self.prefix = prefix
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self._sleep = sleep

    def transcribe(self, path: Path, *, language: str = "", media_format: str = "",
                   progress: Progress | None = None, beam_size: int | None = None,
                   vad_filter: bool | None = None) -> Transcript:
        """beam_size and vad_filter are Whisper's decoding options; Amazon Transcribe has none to set."""
        fmt = MEDIA_FORMATS.get(media_format or Path(path).suffix.lstrip(".").lower())
        if fmt is None:
            raise LoupeError(f"Amazon Transcribe does not accept {media_format or 'this'} media; "
                             f"use one of {', '.join(sorted(set(MEDIA_FORMATS)))}.")
        job_name = f"loupe-{uuid.uuid4().hex}"
        media_key = f"{self.prefix}{job_name}.{fmt}"
        request: dict[str, Any] = {"TranscriptionJobName": job_name, "Media": {"MediaFileUri": f"s3://{self.bucket}/{media_key}"},
                   "MediaFormat": fmt, "OutputBucketName": self.bucket, "OutputKey": f"{self.prefix}{job_name}.json"}
        if language:
            request["LanguageCode"] = LANGUAGE_CODES.get(language, language)
        else:
            request["IdentifyLanguage"] = True
        bucket = f"S3 bucket {self.bucket!r}"
        needs: tuple[str, ...]
        what, needs = bucket, ("s3:PutObject",)  # the call under way, for the error's words
        try:
            self.s3.upload_file(str(path), self.bucket, media_key)
            what, needs = "Amazon Transcribe", PERMISSIONS
            self.client.start_transcription_job(**request)
            job = self._wait(job_name, progress)
            what, needs = bucket, ("s3:GetObject",)
            output = self._read_output(job, request["OutputKey"])
        except aws_error_types() as exc:
            raise LoupeError(aws_error_message(exc, what=what, permissions=needs)) from exc
        transcript = parse_transcribe_json(output, model_version=self.model_version)
        if not transcript.language and job.get("LanguageCode"):
            transcript = replace(transcript, language=job["LanguageCode"])
        return transcript

    def _wait(self, job_name: str, progress: Progress | None) -> dict:
        deadline = time.monotonic() + self.timeout_s
        while True:
            job = self.client.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
            status = job["TranscriptionJobStatus"]
            if status == "COMPLETED":
                return job
            if status == "FAILED":
                reason = job.get("FailureReason", "no reason given")
                raise LoupeError(f"Amazon Transcribe job {job_name} failed: {reason}")
            if progress:
                progress(0.0)  # Transcribe reports no partial progress; this lets a cancel stop the wait
            if time.monotonic() > deadline:
                raise LoupeError(f"Amazon Transcribe job {job_name} did not finish within "
                                 f"{self.timeout_s / 60:.0f} minutes.")
            self._sleep(self.poll_s)

    def _read_output(self, job: dict, output_key: str) -> dict:
        bucket, key = self.bucket, output_key
        uri = job.get("Transcript", {}).get("TranscriptFileUri", "")
        if uri:
            bucket, key = s3_location(uri, default_bucket=self.bucket)
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            return json.loads(body)
        except ValueError:
            raise LoupeError(f"Amazon Transcribe's output at s3://{bucket}/{key} is not JSON.") from None


def s3_location(uri: str, *, default_bucket: str = "") -> tuple[str, str]:
    """(bucket, key) of an s3:// URI or an S3 https URL in path or virtual-host style."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        return parsed.netloc, parsed.path.lstrip("/")
    host, path = parsed.netloc, unquote(parsed.path.lstrip("/"))
    if host.startswith("s3.") or host.startswith("s3-") or ".s3." not in host:
        bucket, _, key = path.partition("/")
        return bucket or default_bucket, key
    return host.split(".s3.")[0], path
