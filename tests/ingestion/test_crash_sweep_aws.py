"""The crash sweep on the AWS adapters: S3 landing (a versioned bucket, as infra/modules/lake makes it) and
DynamoDB watermarks on a moto server, the source the local Snowflake twin, `lakeml ingest` with
LAKEML_ENV=aws. The same cases as the local sweep (tests/ingestion/crash_sweep.py): SIGKILL at every write
boundary and at random times, then a clean run; nothing may be lost or duplicated.

What differs on S3 and is exercised here: a "move" is a server-side copy then a delete (not a rename), a
delete of a run folder is a listing plus deletes, an object appears only when its upload completes, and
the watermark's compare-and-set is DynamoDB's conditional PutItem.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from tests.contract.aws_emulator import client, moto_server
from tests.ingestion.aws_landing import AwsLanding, aws_landing
from tests.ingestion.crash_sweep import KILLED, KILLS, sweep

pytestmark = [pytest.mark.xdist_group("crash-sweep-aws"), pytest.mark.slow]


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def test_sigkill_at_every_write_boundary_on_s3_and_dynamodb_then_a_clean_run_loses_and_duplicates_nothing(
    lakeml, source, sources, aws_endpoint: str
) -> None:
    sources(contract=True, chunk_rows=4, part_rows=5)
    landing = aws_landing(aws_endpoint)
    result = sweep(lakeml, source, landing.env)
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
    assert committed_parts_match_their_manifests(landing) > len(KILLS)


def committed_parts_match_their_manifests(landing: AwsLanding) -> int:
    """Every part a committed manifest lists is in the bucket whole: the sha256 the manifest recorded is
    the object's (a part cut short by a kill is never committed). Returns how many parts were checked."""
    s3 = client("s3", landing.endpoint)
    checked = 0
    for key in landing.keys("bronze/_manifests/"):
        if not key.endswith(".json") or key.rsplit("/", 1)[1].startswith("."):
            continue
        manifest = json.loads(s3.get_object(Bucket=landing.bucket, Key=key)["Body"].read())
        for record in manifest["files"] + manifest["quarantine_files"]:
            body = s3.get_object(Bucket=landing.bucket, Key=record["path"])["Body"].read()
            assert hashlib.sha256(body).hexdigest() == record["sha256"], (key, record["path"])
            checked += 1
    return checked
