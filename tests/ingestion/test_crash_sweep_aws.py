"""The crash sweep on the AWS adapters: S3 landing (a versioned bucket, as infra/modules/lake makes it) and
DynamoDB watermarks on a moto server, the source the local Snowflake twin, `lakeml ingest` with
LAKEML_ENV=aws. The same cases as the local sweep (tests/ingestion/crash_sweep.py): SIGKILL at every write
boundary and at random times, then a clean run; nothing may be lost or duplicated.

What differs on S3 and is exercised here: a "move" is a server-side copy then a delete (not a rename), a
delete of a run folder is a listing plus deletes, an object appears only when its upload completes, and
the watermark's compare-and-set is DynamoDB's conditional PutItem.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.contract.aws_emulator import REGION, client, create_bucket, create_watermark_table, moto_server
from tests.ingestion.crash_sweep import KILLED, KILLS, sweep

pytestmark = [pytest.mark.xdist_group("crash-sweep-aws"), pytest.mark.slow]


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def aws_env(endpoint: str, home_source: tuple[str, int]) -> dict[str, str]:
    """A fresh versioned lake bucket and watermark table, and the settings that point ingestion at them
    and at the local Snowflake twin (as `terraform output lakeml` + a Snowflake host would)."""
    suffix = uuid.uuid4().hex[:8]
    bucket, table = f"lakeml-lake-{suffix}", f"lakeml-watermarks-{suffix}"
    create_bucket(endpoint, bucket)
    client("s3", endpoint).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    create_watermark_table(endpoint, table)
    host, port = home_source
    return {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__ENDPOINT_URL": endpoint,
        "LAKEML_AWS__LAKE_BUCKET": bucket,
        "LAKEML_AWS__WATERMARK_TABLE": table,
        "LAKEML_SOURCE__HOST": host,
        "LAKEML_SOURCE__PORT": str(port),
        "LAKEML_SOURCE__PROTOCOL": "http",
    }


@pytest.fixture
def twin_address(source) -> tuple[str, int]:
    """Host and port of this home's local Snowflake (started by the `source` fixture)."""
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.server import ensure_running

    info = ensure_running(load_settings())
    return info.host, info.port


def test_sigkill_at_every_write_boundary_on_s3_and_dynamodb_then_a_clean_run_loses_and_duplicates_nothing(
    lakeml, source, sources, aws_endpoint: str, twin_address: tuple[str, int]
) -> None:
    sources(contract=True, chunk_rows=4, part_rows=5)
    env = aws_env(aws_endpoint, twin_address)
    result = sweep(lakeml, source, env)
    for boundary, nth, killed in result.killed:
        assert killed.code == KILLED, (boundary, nth, killed)
    assert result.final.code == 0, result.final
    assert result.verify.code == 0, result.verify
    for table, row in result.verify.json.items():
        assert (row["missing"], row["duplicates"]) == (0, 0), (table, row)
        assert row["source_rows"] > 0 and row["bronze_rows"] >= row["source_rows"], (table, row)
    assert result.verify.json["ORDERS"]["quarantined_rows"] >= len(KILLS)  # the double inserts, once each
    runs = {run["table"]: run for run in result.final.json["runs"]}
    assert sorted(runs) == ["CUSTOMERS", "ORDERS"]
