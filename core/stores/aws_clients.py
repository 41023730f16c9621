"""What the DynamoDB and S3 stores share: a boto3 client built on first use, and reading an AWS error's code."""
from __future__ import annotations

from core.aws import explain_aws_error, make_client
from core.errors import StoreUnavailable


def lazy_client(store, service_name: str):
    """The store's boto3 client, built on first use so a misconfigured backend still lets the app start and
    explain itself (NoRegionError and friends are raised when a client is made)."""
    if store._client is None:
        with store._lock:
            if store._client is None:
                try:
                    store._client = make_client(service_name, store.aws)
                except Exception as exc:
                    raise StoreUnavailable(explain_aws_error(exc, what=store._what()) or str(exc)) from exc
    return store._client


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for any other exception)."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")
