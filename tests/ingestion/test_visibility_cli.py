"""Bronze as dbt reads it is what `lakeml ingest verify` counts, through the real command line.

Rows deleted at the source disappear after `lakeml ingest --full-refresh` + `lakeml transform`: the full
refresh supersedes the earlier runs, and dbt's bronze relations (register_bronze, over the visibility
index) show only the visible runs. One Spark build of silver: dbt's own gate
`bronze_relations_show_exactly_the_visible_runs` compares every bronze relation's count with the index
inside that build, this test ties the index to `verify`, and silver is read back with pyarrow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from ingestion.visibility import read_visibility
from lakeml.core.lake.local import LocalLake
from tests.ingestion.conftest import build_extraction_views

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ingestion-visibility"), pytest.mark.timeout(1800)]

TABLES = ("CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS")
HISTORY_DAYS = 30  # silver only: gold's gates (28-day warm-up, 90-day label horizon) are not built here
ALL_TABLES = "tables:\n" + "".join(f"  {table}: {{}}\n" for table in TABLES)
GATE = "bronze_relations_show_exactly_the_visible_runs"


def source_sql(statement: str) -> list[tuple[Any, ...]]:
    """A statement against this home's local Snowflake, through the real connector."""
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.connection import connect

    with connect(load_settings()) as conn, conn.cursor() as cursor:
        cursor.execute(statement)
        return list(cursor.fetchall())


def ids(rows: list[tuple[Any, ...]]) -> list[int]:
    return sorted(int(row[0]) for row in rows)


def test_rows_deleted_at_the_source_leave_bronze_and_silver_after_a_full_refresh(
    lakeml, home: Path, sources
) -> None:
    sources(ALL_TABLES, contract=True)
    # enough history for gold's gates: 28 days of warm-up before the first snapshot, a 90-day label horizon
    seeded = lakeml("--json", "source", "seed", "--customers", "500", "--days", str(HISTORY_DAYS))
    assert seeded.code == 0, seeded
    build_extraction_views(home, Path(os.environ["LAKEML_CONFIG"]))
    first = lakeml("--json", "ingest")
    assert first.code == 0, first

    # customers without dependants, and orders with their lines, so silver's relationship tests stay quiet
    gone_customers = ids(
        source_sql(
            "SELECT CUSTOMER_ID FROM RETAIL.RAW.CUSTOMERS WHERE CUSTOMER_ID NOT IN "
            "(SELECT CUSTOMER_ID FROM RETAIL.RAW.ORDERS) AND CUSTOMER_ID NOT IN "
            "(SELECT CUSTOMER_ID FROM RETAIL.RAW.SUPPORT_TICKETS) ORDER BY CUSTOMER_ID LIMIT 3"
        )
    )
    gone_orders = ids(source_sql("SELECT ORDER_ID FROM RETAIL.RAW.ORDERS ORDER BY ORDER_ID LIMIT 4"))
    assert len(gone_customers) == 3 and len(gone_orders) == 4, (gone_customers, gone_orders)
    source_sql(
        f"DELETE FROM RETAIL.RAW.CUSTOMERS WHERE CUSTOMER_ID IN ({', '.join(map(str, gone_customers))})"
    )
    for table in ("ORDER_ITEMS", "ORDERS"):
        source_sql(f"DELETE FROM RETAIL.RAW.{table} WHERE ORDER_ID IN ({', '.join(map(str, gone_orders))})")
    source_customers = ids(source_sql("SELECT DISTINCT CUSTOMER_ID FROM RETAIL.RAW.CUSTOMERS"))

    changed = ("CUSTOMERS", "ORDERS", "ORDER_ITEMS")
    refresh = lakeml("--json", "ingest", *(f"--table={table}" for table in changed), "--full-refresh")
    assert refresh.code == 0, refresh
    verify = lakeml("--json", "ingest", "verify")
    assert verify.code == 0, verify
    assert verify.json["CUSTOMERS"]["committed_runs"] == 1  # the full refresh alone
    lake = LocalLake.create(home / "lake")
    for table in changed:
        assert [run.mode for run in read_visibility(lake, table.lower())] == ["full_refresh"], table

    built = lakeml("--json", "transform", "--select", "silver", "--select", GATE)
    assert built.code == 0, built
    assert built.json["failed"] == [] and built.json["skipped"] == [], built.json
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())["results"]
    gate = [r for r in results if r["unique_id"].endswith(f".{GATE}")]
    assert [r["status"] for r in gate] == ["pass"], "the bronze gate did not run in the build"

    silver = ds.dataset(str(home / "lake" / "silver" / "customers"), format="parquet").to_table()
    silver_customers = sorted(silver.column("customer_id").to_pylist())
    assert silver_customers == source_customers
    assert not set(gone_customers) & set(silver_customers)
    for table in TABLES:  # the gate held relation == index; here index == verify
        indexed = sum(run.landed for run in read_visibility(lake, table.lower()))
        assert indexed == verify.json[table]["bronze_rows"], (table, indexed, verify.json[table])
