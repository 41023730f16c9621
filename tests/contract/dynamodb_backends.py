"""Open DynamoDB stores on the local servers the test run started (moto_server, dynalite) for the contract suite."""
from __future__ import annotations

import os
from pathlib import Path

from core.aws import AwsConfig, make_client
from core.stores.aws_setup import ensure_bucket, ensure_table
from core.stores.dynamodb import DynamoDBRecordStore
from core.stores.s3 import S3BlobStore

ENDPOINT_VARS = {"moto": "LOUPE_TEST_MOTO_ENDPOINT", "dynalite": "LOUPE_TEST_DYNALITE_ENDPOINT"}


def test_aws(backend: str) -> AwsConfig:
    """Loopback endpoint and dummy credentials: these servers accept any, and nothing may reach real AWS."""
    endpoint = os.environ[ENDPOINT_VARS[backend]]
    return AwsConfig(endpoint_url=endpoint, region="us-east-1", access_key_id="testing",
                       secret_access_key="testing")


test_aws.__test__ = False  # a helper, not a test


def open_test_records(backend: str, table: str, **kwargs) -> DynamoDBRecordStore:
    aws = test_aws(backend)
    ensure_table(make_client("dynamodb", aws), table)
    return DynamoDBRecordStore(table, aws=aws, **kwargs)


def open_test_blobs(backend: str, bucket: str, cache_dir: Path) -> S3BlobStore:
    if backend != "moto":
        raise ValueError("S3 tests run on moto only; dynalite is DynamoDB only.")
    aws = test_aws(backend)
    ensure_bucket(make_client("s3", aws), bucket)
    return S3BlobStore(bucket, cache_dir, aws=aws)


def reopen_test_records(backend: str, store: DynamoDBRecordStore) -> DynamoDBRecordStore:
    return DynamoDBRecordStore(store.table, aws=test_aws(backend))
