"""Watermark table recovery: point-in-time restore, and a table lost altogether.

The watermarks are a cache of the lake's committed chain (the watermark's run back through each
manifest's `from_run_id`): a watermark older than the lake's newest commits is rolled forward through
them by the next run's reconcile, never re-extracted. So restoring the table to any earlier point (PITR,
as infra/modules/state enables it) or even losing it is recoverable without loss or duplication.

Emulator limit: moto's RestoreTableToPointInTime copies the source table as it is *now* (it ignores
RestoreDateTime). The test therefore puts into the restored table the items the table held at the restore
time (scanned then), which is what AWS returns; every other step is the runbook's procedure as it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.contract.aws_emulator import client
from tests.ingestion.aws_landing import AwsLanding
from tests.ingestion.conftest import at

pytestmark = pytest.mark.xdist_group("dr")


def ingest(lakeml, landing: AwsLanding) -> dict[str, Any]:
    result = lakeml("--json", "ingest", "--table", "ORDERS", env=landing.env)
    assert result.code == 0, result
    return result.json["runs"][0]


def scan(landing: AwsLanding, table: str) -> list[dict[str, Any]]:
    return client("dynamodb", landing.endpoint).scan(TableName=table, ConsistentRead=True)["Items"]


def verify(lakeml, landing: AwsLanding) -> dict[str, Any]:
    result = lakeml("--json", "ingest", "verify", "--table", "ORDERS", env=landing.env)
    assert result.code == 0, result
    return result.json["ORDERS"]


def test_a_bad_watermark_write_is_undone_by_a_point_in_time_restore_and_ingestion_resumes_exactly_once(
    lakeml, source, landing: AwsLanding
) -> None:
    dynamodb = client("dynamodb", landing.endpoint)
    dynamodb.update_continuous_backups(  # what infra/modules/state sets (point_in_time_recovery)
        TableName=landing.watermark_table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    backups = dynamodb.describe_continuous_backups(TableName=landing.watermark_table)
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"
    ] == ("ENABLED")
    source.add_orders(10, at(60))
    first = ingest(lakeml, landing)
    restore_point, at_restore_point = datetime.now(UTC), scan(landing, landing.watermark_table)
    source.add_orders(5, at(120))
    second = ingest(lakeml, landing)
    source.add_orders(4, at(180))
    third = ingest(lakeml, landing)
    dynamodb.put_item(  # the disaster: a hand-made watermark far ahead of the data
        TableName=landing.watermark_table,
        Item={
            "table_name": {"S": "ORDERS"},
            "cursor": {"S": "2030-01-01T00:00:00"},
            "run_id": {"S": "by-hand"},
        },
    )

    # docs/runbook.md, Disaster recovery, watermarks: restore to a new table, copy its items back.
    restored = f"{landing.watermark_table}-restored"
    dynamodb.restore_table_to_point_in_time(
        SourceTableName=landing.watermark_table, TargetTableName=restored, RestoreDateTime=restore_point
    )
    for item in at_restore_point:  # what AWS restores; moto copied today's items (module docstring)
        dynamodb.put_item(TableName=restored, Item=item)
    for item in scan(landing, restored):
        dynamodb.put_item(TableName=landing.watermark_table, Item=item)
    assert scan(landing, landing.watermark_table)[0]["run_id"] == {"S": first["run_id"]}

    source.add_orders(3, at(240))
    resumed = ingest(lakeml, landing)
    assert resumed["recovered"] == [second["run_id"], third["run_id"]]  # rolled forward, not re-extracted
    assert resumed["landed"] == 3
    row = verify(lakeml, landing)
    assert (row["missing"], row["duplicates"], row["bronze_rows"]) == (0, 0, 22)


def test_a_lost_watermark_table_is_rebuilt_from_the_lakes_manifests_by_the_next_run(
    lakeml, source, landing: AwsLanding
) -> None:
    runs = []
    for n, minutes in ((10, 60), (5, 120)):
        source.add_orders(n, at(minutes))
        runs.append(ingest(lakeml, landing)["run_id"])
    client("dynamodb", landing.endpoint).delete_item(
        TableName=landing.watermark_table, Key={"table_name": {"S": "ORDERS"}}
    )

    source.add_orders(4, at(180))
    resumed = ingest(lakeml, landing)
    assert resumed["recovered"] == runs and resumed["landed"] == 4
    row = verify(lakeml, landing)
    assert (row["missing"], row["duplicates"], row["bronze_rows"]) == (0, 0, 19)
