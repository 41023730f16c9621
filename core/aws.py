"""boto3 clients made one way for every AWS backend (DynamoDB, S3, Rekognition, Transcribe), and AWS errors
in words a user can act on. Settings are boto3's own: AWS_REGION, AWS_ENDPOINT_URL, the credentials chain.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class AwsSettings:
    """Where boto3 connects. Empty fields fall back to boto3's own settings (env vars, profiles, IMDS)."""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


def make_client(service_name: str, aws: AwsSettings | None = None, *, max_attempts: int = 10,
                pool_size: int = 32):
    """A thread-safe boto3 client with standard retries (throttling and 5xx are retried with backoff)."""
    import boto3
    from botocore.config import Config as BotoConfig

    aws = aws or AwsSettings()
    session = boto3.session.Session()
    # botocore reads AWS_DEFAULT_REGION; AWS_REGION is the name other SDKs (and our README) use.
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


def explain_aws_error(exc: BaseException, *, what: str) -> str | None:
    """Plain words for the errors a user can fix (credentials, region, missing table, access), else None."""
    from botocore.exceptions import (ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError,
                                     PartialCredentialsError)

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ("No AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
                "or run on a machine with an IAM role.")
    if isinstance(exc, NoRegionError):
        return "No AWS region set. Set AWS_REGION (for example eu-west-1)."
    if isinstance(exc, EndpointConnectionError):
        return f"Cannot reach {what} at {exc.kwargs.get('endpoint_url', 'its endpoint')}. Check AWS_ENDPOINT_URL and the network."
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("ResourceNotFoundException", "NoSuchBucket") or (code == "404" and "bucket" in what):
            return f"{what} does not exist. Create it with `python -m core setup-aws`."
        if code in ("AccessDeniedException", "AccessDenied", "403") or status == 403:
            return f"Access denied to {what}. The IAM policy in the README lists the permissions Loupe needs."
        if code in ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId",
                    "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException"):
            return f"AWS rejected the credentials ({code}). Check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_PROFILE."
    return None
