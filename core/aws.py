"""boto3 clients made one way for every AWS backend (DynamoDB, S3, Rekognition, Transcribe), and AWS errors
in words a user can act on. Its configuration is boto3's own: AWS_REGION, AWS_ENDPOINT_URL, the credentials
chain.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AwsConfig:
    """Where boto3 connects. Empty fields fall back to boto3's own chain (env vars, profiles, IMDS)."""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


def make_client(service_name: str, aws: AwsConfig | None = None, *, max_attempts: int = 10,
                pool_size: int = 32):
    """A thread-safe boto3 client with standard retries (throttling and 5xx are retried with backoff)."""
    import boto3
    from botocore.config import Config as BotoConfig

    aws = aws or AwsConfig()
    session = boto3.session.Session()
    # botocore reads AWS_DEFAULT_REGION; AWS_REGION is the name other SDKs (and our docs) use.
    region = aws.region or os.environ.get("AWS_REGION") or session.region_name
    return session.client(
        service_name,
        endpoint_url=aws.endpoint_url,
        region_name=region,
        aws_access_key_id=aws.access_key_id,
        aws_secret_access_key=aws.secret_access_key,
        config=BotoConfig(retries={"mode": "standard", "max_attempts": max_attempts},
                          max_pool_connections=pool_size, connect_timeout=5, read_timeout=30),
    )


def explain_aws_error(exc: BaseException, *, what: str, permissions: Sequence[str] = (),
                      codes: Mapping[str, str] | None = None) -> str | None:
    """The one translator of AWS errors: plain words for an error a user can act on, else None (a bug: let it raise).

    `what` names the thing called ("Rekognition", "S3 bucket 'media'"); `permissions` are the IAM actions the
    call needs, named when access is denied; `codes` adds words for a service's own error codes.
    """
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    exc = _unwrap(exc)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (f"No AWS credentials found for {what}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                "AWS_PROFILE, or run on a machine with an IAM role.")
    if isinstance(exc, NoRegionError):
        return f"No AWS region set for {what}. Set AWS_REGION (for example eu-west-1)."
    if isinstance(exc, (ConnectionError, ReadTimeoutError)):
        endpoint = exc.kwargs.get("endpoint_url", "its endpoint")
        return f"Cannot reach {what} at {endpoint}. Check AWS_ENDPOINT_URL and the network."
    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    code, said = error.get("Code", ""), error.get("Message", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    aws_said = f" AWS said: {said}" if said else ""
    if codes and code in codes:
        return codes[code] + aws_said
    if code == "NoSuchBucket" and error.get("BucketName"):
        return f"S3 bucket {error['BucketName']!r} does not exist. Create it with `python -m core setup-aws`."
    if code in ("ResourceNotFoundException", "NoSuchBucket") or (code == "404" and "bucket" in what):
        return f"{what} does not exist. Create it with `python -m core setup-aws`."
    if code in _BAD_CREDENTIALS:
        return f"AWS rejected the credentials ({code}). Check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_PROFILE."
    if code in ("AccessDeniedException", "AccessDenied", "403") or status == 403:
        needs = (f" The credentials need {_and(permissions)}." if permissions
                 else " The minimal IAM policy in the docs (docs/team-backend.md) lists the permissions Loupe needs.")
        return f"Access denied to {what}.{needs}{aws_said}"
    if code in _THROTTLED:
        return (f"{what} is throttling requests and still refused after boto3's retries. Wait a minute and try "
                f"again, or ask AWS for a higher limit.")
    return None


def aws_error_message(exc: BaseException, *, what: str, permissions: Sequence[str] = (),
                      codes: Mapping[str, str] | None = None) -> str:
    """explain_aws_error's words, or, for an error it has none for, what AWS said (for one failed call among many)."""
    words = explain_aws_error(exc, what=what, permissions=permissions, codes=codes)
    if words:
        return words
    from botocore.exceptions import ClientError

    exc = _unwrap(exc)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{what} refused the request ({error.get('Code', '?')}): {error.get('Message', '')}".rstrip(": ")
    return f"{what} failed: {type(exc).__name__}: {exc}"


def aws_error_types() -> tuple[type[BaseException], ...]:
    """What boto3 and botocore raise, for an `except` clause (imported late: boto3 is slow to import)."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError, Boto3Error


_BAD_CREDENTIALS = ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId",
                    "SignatureDoesNotMatch",
                    "InvalidSignatureException", "ExpiredToken", "ExpiredTokenException")
_THROTTLED = ("ThrottlingException", "Throttling", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
              "LimitExceededException", "SlowDown", "TooManyRequestsException")


def _unwrap(exc: BaseException) -> BaseException:
    """boto3's S3 transfers wrap the botocore error (S3UploadFailedError, RetriesExceededError); use the cause."""
    from boto3.exceptions import RetriesExceededError, S3UploadFailedError

    if isinstance(exc, RetriesExceededError) and exc.last_exception is not None:
        return exc.last_exception
    if isinstance(exc, S3UploadFailedError) and (exc.__cause__ or exc.__context__) is not None:
        return exc.__cause__ or exc.__context__
    return exc


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
