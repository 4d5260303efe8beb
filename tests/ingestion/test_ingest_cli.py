"""`lakeml ingest` through the real command line against the local Snowflake: what a user sees."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from tests.ingestion.conftest import at

RUN_KEYS = {
    "table",
    "run_id",
    "extracted",
    "landed",
    "quarantined",
    "watermark_from",
    "watermark_to",
    "files",
    "seconds",
}


def runs_by_table(result) -> dict:
    assert result.code == 0, result
    return {run["table"]: run for run in result.json["runs"]}


def assert_clean(lakeml) -> dict:
    result = lakeml("--json", "ingest", "verify")
    assert result.code == 0, result
    for table, row in result.json.items():
        assert row["missing"] == 0, (table, row)
        assert row["duplicates"] == 0, (table, row)
    return result.json


def test_first_run_lands_everything_and_second_run_lands_nothing(lakeml, source, sources, home):
    source.add_orders(40, at(60))
    source.add_customers(15, at(30))

    first = runs_by_table(lakeml("--json", "ingest"))
    assert set(first) == {"ORDERS", "CUSTOMERS"}
    for run in first.values():
        assert set(run) >= RUN_KEYS
        assert run["extracted"] == run["landed"] + run["quarantined"]
    assert first["ORDERS"]["landed"] == 40 and first["CUSTOMERS"]["landed"] == 15
    assert first["ORDERS"]["watermark_from"] is None
    assert first["ORDERS"]["watermark_to"] == at(60).isoformat()

    second = runs_by_table(lakeml("--json", "ingest"))
    assert [r["landed"] for r in second.values()] == [0, 0]
    assert {r["status"] for r in second.values()} == {"up_to_date"}

    # the dbt-facing layout: one manifest line, parts under ingest_date=/run_id=, source column names
    run_id = first["ORDERS"]["run_id"]
    manifest_file = home / "lake" / "bronze" / "_manifests" / "orders" / f"{run_id}.json"
    lines = manifest_file.read_text().splitlines()
    assert len(lines) == 1
    manifest = json.loads(lines[0])
    assert manifest["ingest_date"] == "2025-03-01" and manifest["window_high"] == at(60).isoformat()
    part = home / "lake" / manifest["files"][0]["path"]
    assert part.parent.name == f"run_id={run_id}" and part.parent.parent.name == "ingest_date=2025-03-01"
    schema = pq.read_schema(part)
    assert schema.names[0] == "ORDER_ID" and str(schema.field("UPDATED_AT").type) == "timestamp[us]"
    assert str(schema.field("NET_AMOUNT").type) == "decimal128(12, 2)"
    assert pq.ParquetFile(part).metadata.row_group(0).column(0).compression == "ZSTD"
    assert_clean(lakeml)


def test_only_new_and_updated_rows_land_and_late_rows_at_the_watermark_are_taken_once(
    lakeml, source, sources
):
    ids = source.add_orders(30, at(60))
    runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))

    source.add_order(1000, at(60))  # committed late with the watermark's own timestamp: a new key at `low`
    source.add_orders(5, at(120))
    source.touch_orders(ids[5:8], at(90))
    run = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
    assert run["landed"] == 1 + 5 + 3
    assert run["skipped_at_watermark"] >= 1  # rows at the old watermark that were already landed
    assert run["watermark_from"] == at(60).isoformat() and run["watermark_to"] == at(120).isoformat()
    verified = assert_clean(lakeml)
    assert verified["ORDERS"]["bronze_rows"] == 30 + 1 + 5 + 3


def test_lag_leaves_the_newest_rows_for_the_next_window(lakeml, source, sources):
    sources(lag_seconds=1800)
    source.add_orders(5, at(10), spread_minutes=5)
    source.add_orders(5, at(60), spread_minutes=5)
    run = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
    assert run["window_high"] == at(30).isoformat()
    assert run["landed"] == 5


def test_full_refresh_supersedes_earlier_runs_so_readers_see_each_row_once(lakeml, source, sources, home):
    source.add_orders(20, at(60))
    first = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
    source.add_orders(4, at(120))
    refresh = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS", "--full-refresh"))["ORDERS"]
    assert refresh["mode"] == "full_refresh" and refresh["landed"] == 24
    assert refresh["watermark_to"] == at(120).isoformat()
    manifest = json.loads((home / "lake/bronze/_manifests/orders" / f"{refresh['run_id']}.json").read_text())
    assert manifest["supersedes"] == [first["run_id"]]
    assert assert_clean(lakeml)["ORDERS"]["bronze_rows"] == 24


def test_backfill_lands_a_committed_run_without_moving_the_watermark(lakeml, source, sources):
    source.add_orders(10, at(60), spread_minutes=1)
    runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))
    source.add_orders(6, at(180), spread_minutes=1)
    backfill = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS", "--until", at(100).isoformat()))
    run = backfill["ORDERS"]
    assert run["mode"] == "backfill" and run["landed"] == 10
    assert run["watermark_from"] == run["watermark_to"] == at(60).isoformat()
    after = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
    assert after["watermark_from"] == at(60).isoformat() and after["landed"] == 6
    verified = assert_clean(lakeml)["ORDERS"]
    assert verified["backfill_rows"] == 10 and verified["bronze_rows"] == 16


def test_concurrent_runs_only_one_advances_and_the_loser_exits_1(lakeml, source, sources, home, tmp_path):
    source.add_orders(10, at(60))
    runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))
    source.add_orders(5, at(120))
    flag = tmp_path / "release"
    env = {"LAKEML_INGEST__FAULT_AT": f"before_manifest:wait={flag}"}
    slow = subprocess.Popen(
        [sys.executable, "-m", "lakeml.cli.main", "--json", "ingest", "--table", "ORDERS"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(
            (home / "lake/bronze/orders").glob("ingest_date=*/run_id=20250301T100000*/part-*.parquet")
        ):
            assert time.monotonic() < deadline, "the slow run never reached its parts"
            assert slow.poll() is None, slow.communicate()
            time.sleep(0.1)
        source.add_orders(3, at(150))
        winner = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
        assert winner["landed"] == 8
    finally:
        flag.touch()
        out, err = slow.communicate(timeout=120)
    assert slow.returncode == 1, (out, err)
    assert "another ingestion run advanced the watermark first" in err
    assert json.loads(out)["runs"][0]["status"] == "failed"
    assert assert_clean(lakeml)["ORDERS"]["bronze_rows"] == 18


def test_drift_fail_batch_stops_and_names_the_columns_then_quarantine_policy_continues(
    lakeml, source, sources
):
    # Drift is about what ingestion reads; a view selects its columns, so a column added to the raw table
    # only reaches ingestion when dbt rebuilds the view. Read the raw table to see the drift at once.
    raw = "tables:\n  ORDERS:\n    object: RETAIL.RAW.ORDERS\n"
    sources(raw)
    source.add_orders(10, at(60))
    runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))
    source.sql("ALTER TABLE RETAIL.RAW.ORDERS ADD COLUMN PROMO_CODE VARCHAR")
    source.add_order(500, at(120))

    failed = lakeml("--json", "ingest", "--table", "ORDERS")
    assert failed.code == 1, failed
    assert "PROMO_CODE" in failed.stderr and "on_drift: quarantine_rows" in failed.stderr
    assert "ingestion/sources.yml" in failed.stderr
    assert failed.json["runs"][0]["status"] == "failed"

    sources(raw, on_drift="quarantine_rows")
    kept = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
    assert (kept["landed"], kept["quarantined"]) == (0, 1)
    assert "PROMO_CODE" in kept["drift"]
    assert kept["watermark_to"] == at(120).isoformat()
    refresh = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS", "--full-refresh"))["ORDERS"]
    assert refresh["landed"] == 11


@pytest.mark.parametrize("page_rows", [500_000, 3])
def test_duplicate_copies_land_once_and_extra_copies_are_quarantined_across_chunks(
    lakeml, source, sources, home, page_rows
):
    sources(chunk_rows=2, part_rows=3, page_rows=page_rows)
    source.add_orders(7, at(60), spread_minutes=1)
    for order_id in (1, 2, 3, 4):
        source.duplicate_order(order_id)
    run = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
    assert (run["extracted"], run["landed"], run["quarantined"]) == (11, 7, 4)
    assert run["files"] == 3  # 7 landed rows in parts of at most 3
    manifest = json.loads((home / "lake/bronze/_manifests/orders" / f"{run['run_id']}.json").read_text())
    for extracted, landed, quarantined in manifest["batches"]:
        assert extracted == landed + quarantined
    rejected = pa.concat_tables(
        pq.read_table(home / "lake" / f["path"]) for f in manifest["quarantine_files"]
    )
    assert rejected.column("_reasons").to_pylist() == [["duplicate_primary_key"]] * 4
    assert sorted(rejected.column("ORDER_ID").to_pylist()) == [1, 2, 3, 4]


def test_a_missing_extraction_view_fails_the_table_saying_how_to_build_the_views(lakeml, source, sources):
    source.add_orders(3, at(60))
    source.add_customers(2, at(60))
    source.sql("DROP VIEW RETAIL.EXTRACT.ORDERS")  # as if `lakeml transform --snowflake` never ran
    result = lakeml("--json", "ingest")
    assert result.code == 1, result
    assert "table ORDERS: RETAIL.EXTRACT.ORDERS does not exist in the source" in result.stderr
    assert "lakeml transform --snowflake" in result.stderr and "lakeml run" in result.stderr
    assert "ORDERS.object" in result.stderr  # ... or point the table elsewhere
    runs = {run["table"]: run for run in result.json["runs"]}
    assert runs["ORDERS"]["status"] == "failed" and runs["CUSTOMERS"]["status"] == "landed"


def test_customers_land_and_are_quarantined_without_the_raw_email_or_names(lakeml, source, sources, home):
    sources(contract=True)
    source.add_customers(4, at(60))
    source.sql(
        "UPDATE RETAIL.RAW.CUSTOMERS SET EMAIL = 'ann at example.com' WHERE CUSTOMER_ID = 2"  # malformed
    )
    run = runs_by_table(lakeml("--json", "ingest", "--table", "CUSTOMERS"))["CUSTOMERS"]
    assert (run["landed"], run["quarantined"]) == (3, 1)

    parts = {
        p.relative_to(home / "lake").parts[0]: pq.read_table(p)
        for p in home.glob("lake/*/customers/**/*.parquet")
    }
    bronze, quarantine = parts["bronze"], parts["quarantine"]
    digests = dict(zip(bronze["CUSTOMER_ID"].to_pylist(), bronze["EMAIL_SHA256"].to_pylist(), strict=True))
    assert digests[1] == hashlib.sha256(b"c0@example.com").hexdigest()  # hashed in Snowflake
    assert quarantine.column("CUSTOMER_ID").to_pylist() == [2]
    assert quarantine.column("_reasons").to_pylist()[0][0].startswith("malformed_email: EMAIL_VALID=False")
    for table in (bronze, quarantine):  # no raw address or name anywhere in the lake
        assert not {"EMAIL", "FIRST_NAME", "LAST_NAME"} & set(table.column_names)
        strings = [v for c in table.columns if pa.types.is_string(c.type) for v in c.to_pylist()]
        assert not any("@" in v or v in ("Ann", "Lee") for v in strings if v is not None)


def test_bad_sources_file_is_a_usage_error_naming_file_table_and_key(lakeml, sources, home):
    path = sources("tables:\n  ORDERS:\n    on_violation: drop_rows\n")
    result = lakeml("--json", "ingest")
    assert result.code == 2, result
    assert str(path) in result.stderr and "ORDERS" in result.stderr and "on_violation" in result.stderr
    sources("tables:\n  ORDERS:\n    chunk_size: 5\n")
    result = lakeml("--json", "ingest")
    assert result.code == 2 and "chunk_size" in result.stderr and "unknown key" in result.stderr


def test_unload_mode_fails_clearly_on_the_local_source(lakeml, source, sources):
    sources("tables:\n  ORDERS:\n    mode: unload\n    stage: '@RETAIL.RAW.LAKE'\n")
    source.add_orders(3, at(60))
    result = lakeml("--json", "ingest")
    assert result.code == 1, result
    assert "fakesnow" in result.stderr and "mode: fetch" in result.stderr


def test_backfill_and_full_refresh_cannot_be_combined(lakeml, sources, home):
    result = lakeml("--json", "ingest", "--full-refresh", "--until", "2025-01-01")
    assert result.code == 2 and "cannot be combined" in result.stderr


def test_fail_batch_violation_policy_commits_nothing_until_the_policy_or_source_changes(
    lakeml, source, sources, home
):
    sources(contract=True, on_violation="fail_batch")
    source.add_orders(6, at(60))
    source.add_order(900, at(60), net="-5.00")
    failed = lakeml("--json", "ingest", "--table", "ORDERS")
    assert failed.code == 1, failed
    assert "on_violation: quarantine_rows" in failed.stderr and "NET_AMOUNT" in failed.stderr
    assert failed.json["runs"][0]["status"] == "failed"
    assert not list((home / "lake/bronze/_manifests").glob("orders/*.json"))
    assert list((home / "lake/quarantine/orders").glob("*/*/part-*.parquet"))

    sources(contract=True, on_violation="quarantine_rows")
    run = runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))["ORDERS"]
    assert (run["watermark_from"], run["landed"], run["quarantined"]) == (None, 6, 1)


def test_verify_exits_1_and_counts_a_row_committed_late_below_the_watermark(lakeml, source, sources):
    source.add_orders(5, at(60))
    runs_by_table(lakeml("--json", "ingest", "--table", "ORDERS"))
    source.add_order(777, at(10))  # behind the watermark: no later window will take it
    result = lakeml("--json", "ingest", "verify", "--table", "ORDERS")
    assert result.code == 1, result
    assert result.json["ORDERS"]["missing"] == 1 and result.json["ORDERS"]["duplicates"] == 0
    assert "ORDERS (1 missing" in result.stderr and "lag_seconds" in result.stderr
