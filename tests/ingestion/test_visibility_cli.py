"""Bronze as dbt reads it is what `lakeml ingest verify` counts, through the real command line.

Rows deleted at the source disappear after `lakeml ingest --full-refresh` + `lakeml transform`: the full
refresh supersedes the earlier runs, and dbt's bronze relations (register_bronze, over the visibility
index) show only the visible runs. One Spark build; the relations are then read back from the metastore
that build used, by a separate Python process (Spark's Derby metastore serves one process at a time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ingestion.visibility import read_visibility
from lakeml.core.lake.local import LocalLake
from tests.conftest import REPO
from tests.ingestion.conftest import build_extraction_views

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ingestion-visibility"), pytest.mark.timeout(1800)]

TABLES = ("CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS")
HISTORY_DAYS = 130
ALL_TABLES = "tables:\n" + "".join(f"  {table}: {{}}\n" for table in TABLES)

# Reads the relations `lakeml transform` registered, from its metastore and warehouse (profiles.yml).
READ_RELATIONS = """
import json, sys
from lakeml.transform.java import ensure_java_home
from pyspark.sql import SparkSession

home, tables = sys.argv[1], sys.argv[2].split(",")
ensure_java_home()
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .config("spark.sql.warehouse.dir", f"{home}/spark/warehouse")
    .config("spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={home}/spark/metastore_db;create=true")
    .config("spark.driver.extraJavaOptions",
            f"-XX:TieredStopAtLevel=1 -Dderby.system.home={home}/spark -Dderby.stream.error.file={home}/spark/derby.log")
    .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    .enableHiveSupport()
    .getOrCreate()
)
bronze = {t: spark.sql(f"select count(*) from bronze.{t.lower()}").collect()[0][0] for t in tables}
customers = sorted(r[0] for r in spark.sql("select customer_id from silver.customers").collect())
print(json.dumps({"bronze": bronze, "silver_customers": customers}))
"""


def source_sql(statement: str) -> list[tuple[Any, ...]]:
    """A statement against this home's local Snowflake, through the real connector."""
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.connection import connect

    with connect(load_settings()) as conn, conn.cursor() as cursor:
        cursor.execute(statement)
        return list(cursor.fetchall())


def ids(rows: list[tuple[Any, ...]]) -> list[int]:
    return sorted(int(row[0]) for row in rows)


def read_relations(home: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", READ_RELATIONS, str(home), ",".join(TABLES)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


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

    built = lakeml("--json", "transform")
    assert built.code == 0, built
    assert built.json["failed"] == [], built.json

    relations = read_relations(home)
    assert relations["silver_customers"] == source_customers
    assert not set(gone_customers) & set(relations["silver_customers"])
    for table in TABLES:
        assert relations["bronze"][table] == verify.json[table]["bronze_rows"], (
            table,
            relations,
            verify.json,
        )
