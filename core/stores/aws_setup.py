"""Creating the DynamoDB table and the S3 bucket of the team backend, only ever on request (`python -m core
setup-aws`, and the test servers); the stores themselves never create anything."""
from __future__ import annotations

import time
from typing import Any

from core.errors import StoreUnavailable
from core.stores.aws_clients import error_code as _code
from core.stores.dynamodb import KIND_INDEX, PARENT_INDEX, SORT_KIND_INDEX, SORT_PARENT_INDEX

ATTRIBUTES = ("pk", "kind", "kp", "sk", "so")


def _gsi(name: str, hash_attr: str, range_attr: str) -> dict[str, Any]:
    return {"IndexName": name, "KeySchema": [{"AttributeName": hash_attr, "KeyType": "HASH"},
                                             {"AttributeName": range_attr, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}


def index_definitions() -> list[dict[str, Any]]:
    """The four indexes: by kind and by parent, each in key order (sk) and in sort order (so)."""
    return [_gsi(KIND_INDEX, "kind", "sk"), _gsi(PARENT_INDEX, "kp", "sk"),
            _gsi(SORT_KIND_INDEX, "kind", "so"), _gsi(SORT_PARENT_INDEX, "kp", "so")]


def table_definition(table: str) -> dict[str, Any]:
    """CreateTable arguments: on-demand billing, the key and the indexes the queries and pages need."""
    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ATTRIBUTES],
        "GlobalSecondaryIndexes": index_definitions(),
    }


def ensure_table(client, table: str, *, timeout_s: float = 120.0) -> bool:
    """Create the table if missing, add the indexes a table made by an older Loupe lacks (one at a time, as
    DynamoDB allows), and wait until the table and its indexes are active. True if it was created."""
    created = False
    try:
        desc = client.describe_table(TableName=table)["Table"]
    except Exception as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        desc = None
        try:
            client.create_table(**table_definition(table))
            created = True
        except Exception as create_exc:
            if _code(create_exc) != "ResourceInUseException":  # created by someone else meanwhile
                raise
    if desc is not None:
        have = {i["IndexName"] for i in desc.get("GlobalSecondaryIndexes", [])}
        for index in index_definitions():
            if index["IndexName"] not in have:
                _wait_active(client, table, timeout_s)
                _add_index(client, table, index)
    _wait_active(client, table, timeout_s)
    have = {i["IndexName"] for i in client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])}
    if missing := [i["IndexName"] for i in index_definitions() if i["IndexName"] not in have]:
        raise StoreUnavailable(f"DynamoDB table {table!r} did not get the indexes {', '.join(missing)} (dynalite "
                               "accepts adding an index but never adds it): create a new table and migrate to it.")
    return created


def _add_index(client, table: str, index: dict[str, Any]) -> None:
    attributes = table_definition(table)["AttributeDefinitions"]
    try:
        client.update_table(TableName=table, AttributeDefinitions=attributes,
                            GlobalSecondaryIndexUpdates=[{"Create": index}])
    except Exception as exc:  # dynalite wants a throughput even on an on-demand table; DynamoDB refuses one there
        if _code(exc) != "ValidationException" or "provisionedThroughput" not in str(exc):
            raise
        throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
        client.update_table(TableName=table, AttributeDefinitions=attributes,
                            GlobalSecondaryIndexUpdates=[{"Create": {**index, "ProvisionedThroughput": throughput}}])


def _wait_active(client, table: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        desc = client.describe_table(TableName=table)["Table"]
        indexes = desc.get("GlobalSecondaryIndexes", [])
        if desc["TableStatus"] == "ACTIVE" and all(i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return
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
