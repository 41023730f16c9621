"""Creating the DynamoDB table and the S3 bucket of the team backend, only ever on request (`python -m core
setup-aws`, and the test servers); the stores themselves never create anything."""
from __future__ import annotations

import time
from typing import Any

from core.errors import StoreUnavailable
from core.stores.aws_clients import error_code as _code
from core.stores.dynamodb import KIND_INDEX, PARENT_INDEX


def table_definition(table: str) -> dict[str, Any]:
    """CreateTable arguments: on-demand billing, the key and the two indexes the queries need."""
    def gsi(name: str, hash_attr: str) -> dict[str, Any]:
        return {"IndexName": name, "KeySchema": [{"AttributeName": hash_attr, "KeyType": "HASH"},
                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}

    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "kind", "kp", "sk")],
        "GlobalSecondaryIndexes": [gsi(KIND_INDEX, "kind"), gsi(PARENT_INDEX, "kp")],
    }


def ensure_table(client, table: str, *, timeout_s: float = 120.0) -> bool:
    """Create the table if missing and wait until it and its indexes are active. True if it was created."""
    created = False
    try:
        client.describe_table(TableName=table)
    except Exception as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        try:
            client.create_table(**table_definition(table))
            created = True
        except Exception as create_exc:
            if _code(create_exc) != "ResourceInUseException":  # created by someone else meanwhile
                raise
    deadline = time.monotonic() + timeout_s
    while True:
        desc = client.describe_table(TableName=table)["Table"]
        indexes = desc.get("GlobalSecondaryIndexes", [])
        if desc["TableStatus"] == "ACTIVE" and all(i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return created
        if time.monotonic() > deadline:
            raise StoreUnavailable(f"DynamoDB table {table!r} is still {desc['TableStatus']} after {timeout_s:.0f} s.")
        time.sleep(0.05 if time.monotonic() - deadline + timeout_s < 2 else 1.0)


def ensure_bucket(client, bucket: str) -> bool:
    """Create the bucket if missing (in the client's region). True if it was created."""
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except Exception as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    region = client.meta.region_name
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)
    except Exception as exc:
        if _code(exc) != "BucketAlreadyOwnedByYou":
            raise
        return False
    return True
