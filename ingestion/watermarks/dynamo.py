"""AWS adapter of the watermark port: one DynamoDB item per table, moved by a conditional PutItem.

DynamoDB because a Lambda has no local disk that outlives it, and its conditional write is exactly the
compare-and-set the port promises. The client comes from `lakeml.core.aws.client` (retries, timeouts,
`settings.aws.endpoint_url` for the moto server the tests use).
"""

from __future__ import annotations

import json
import lzma
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ingestion.watermarks.port import Watermark, WatermarkConflict
from lakeml.core import aws
from lakeml.core.errors import ConfigError, LakemlError

# Key schema of the watermark table (infra creates it: hash key only, string, on-demand billing).
WATERMARK_KEY = "table_name"

# A DynamoDB item holds at most 400 KB. Keys at the cursor are usually a handful, kept as a readable list;
# a bulk update that gives many rows one timestamp can produce hundreds of thousands, which are stored
# LZMA-compressed (preset 1: as small as 6 here, 4x faster) in a binary attribute instead. Measured:
# 200,000 sequential numeric ids, 2.8 MB as JSON, become 100 KB; random 10-digit ids take ~5.7 bytes
# each, so ~65,000 of those fit.
INLINE_KEYS_BYTES = 64_000
MAX_COMPRESSED_KEYS_BYTES = 380_000


class DynamoWatermarkStore:
    """`WatermarkStore` on DynamoDB.

    The condition is on the value the caller read: `attribute_not_exists` for a first write, else equality
    of `run_id` and `cursor` (the run id is derived from the window, so the pair identifies the stored
    value). DynamoDB evaluates the condition and the write atomically, so of two runs that read the same
    value exactly one advances; the other gets `WatermarkConflict`. Reads are strongly consistent so a run
    never starts from a value older than the last commit.
    """

    def __init__(self, table_name: str, region: str, endpoint_url: str | None = None) -> None:
        self.table_name = table_name
        self.region = region
        self.client = aws.client("dynamodb", region, endpoint_url)

    def get(self, table: str) -> Watermark | None:
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key={WATERMARK_KEY: {"S": table}}, ConsistentRead=True
            )
        except ClientError as exc:
            raise self._explain(exc, f"read the watermark of {table}") from exc
        item = response.get("Item")
        return watermark_from_item(item) if item else None

    def advance(self, table: str, expected: Watermark | None, new: Watermark) -> None:
        # DynamoDB rejects unused placeholders, so each branch declares only its own. CURSOR is a reserved
        # word: every attribute goes through a placeholder.
        names: dict[str, str]
        values: dict[str, Any] = {}
        if expected is None:
            condition = "attribute_not_exists(#key)"
            names = {"#key": WATERMARK_KEY}
        else:
            condition = "#run_id = :expected_run_id AND #cursor = :expected_cursor"
            names = {"#run_id": "run_id", "#cursor": "cursor"}
            values = {
                ":expected_run_id": {"S": expected.run_id},
                ":expected_cursor": {"S": expected.cursor.isoformat()},
            }
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": item_from_watermark(table, new),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self.client.put_item(**request)
        except ClientError as exc:
            if aws.error_code(exc) != "ConditionalCheckFailedException":
                raise self._explain(exc, f"advance the watermark of {table}") from exc
            old = exc.response.get("Item")
            current = old["run_id"]["S"] if old and "run_id" in old else None
            raise WatermarkConflict(
                f"watermark of {table} in DynamoDB table {self.table_name} is at run {current!r} while this "
                f"run expected {expected.run_id if expected else None!r}; another run committed first. "
                "Re-run the ingestion to continue from the new value."
            ) from None

    def clear(self, table: str) -> None:
        try:
            self.client.delete_item(TableName=self.table_name, Key={WATERMARK_KEY: {"S": table}})
        except ClientError as exc:
            raise self._explain(exc, f"clear the watermark of {table}") from exc

    def _explain(self, exc: ClientError, action: str) -> LakemlError:
        code = aws.error_code(exc)
        if code == "ResourceNotFoundException":
            return ConfigError(
                f"cannot {action}: DynamoDB table {self.table_name!r} does not exist in {self.region}; "
                "create it (infra/, hash key 'table_name' of type S) or set LAKEML_AWS__WATERMARK_TABLE"
            )
        if code in {"AccessDeniedException", "UnrecognizedClientException"}:
            return ConfigError(
                f"cannot {action}: access to DynamoDB table {self.table_name!r} was denied ({code}); "
                "grant the function dynamodb:GetItem/PutItem/DeleteItem on it (see docs/aws.md)"
            )
        message = exc.response.get("Error", {}).get("Message", "")
        return LakemlError(f"cannot {action} in DynamoDB table {self.table_name!r}: {code}: {message}")


def item_from_watermark(table: str, mark: Watermark) -> dict[str, Any]:
    """The DynamoDB item of a watermark: readable attributes, keys compressed only when they must be."""
    item: dict[str, Any] = {
        WATERMARK_KEY: {"S": table},
        "cursor": {"S": mark.cursor.isoformat()},
        "run_id": {"S": mark.run_id},
        "committed_at": {"S": datetime.now(UTC).isoformat()},  # for operators; not part of the value
    }
    keys = mark.keys_at_cursor
    if sum(len(key.encode()) + 4 for key in keys) <= INLINE_KEYS_BYTES:
        item["keys_at_cursor"] = {"L": [{"S": key} for key in keys]}
        return item
    blob = lzma.compress(json.dumps(list(keys)).encode(), preset=1)
    if len(blob) > MAX_COMPRESSED_KEYS_BYTES:
        raise LakemlError(
            f"watermark of {table}: {len(keys)} rows share the cursor {mark.cursor.isoformat()} and their keys "
            f"do not fit in one DynamoDB item even compressed ({len(blob)} bytes). Give the bulk-updated rows "
            "distinct cursor values in the source, or run this table with LAKEML_ENV=local state"
        )
    item["keys_at_cursor_xz"] = {"B": blob}
    return item


def watermark_from_item(item: dict[str, Any]) -> Watermark:
    if "keys_at_cursor_xz" in item:
        keys = tuple(json.loads(lzma.decompress(item["keys_at_cursor_xz"]["B"])))
    else:
        keys = tuple(key["S"] for key in item.get("keys_at_cursor", {}).get("L", []))
    return Watermark(
        cursor=datetime.fromisoformat(item["cursor"]["S"]),
        keys_at_cursor=keys,
        run_id=item["run_id"]["S"],
    )
