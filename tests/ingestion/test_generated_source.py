"""Ingestion over the churn generator's data (`lakeml source seed/advance`): bad rows and incremental days,
read as a user runs it, through the extraction views (`lakeml transform --snowflake`, then `lakeml ingest`)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.schema import TABLES

ALL_TABLES = "tables:\n" + "".join(f"  {name}: {{}}\n" for name in TABLES)
ALL_RAW_TABLES = "tables:\n" + "".join(f"  {name}: {{object: RETAIL.RAW.{name}}}\n" for name in TABLES)


def build_views(lakeml) -> None:
    built = lakeml("--json", "transform", "--snowflake")
    assert built.code == 0, built


def manifests(home: Path, table: str) -> list[dict]:
    folder = home / "lake" / "bronze" / "_manifests" / table.lower()
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def quarantined_rows(home: Path, table: str) -> pa.Table | None:
    files = [home / "lake" / f["path"] for m in manifests(home, table) for f in m["quarantine_files"]]
    return pa.concat_tables(pq.read_table(f) for f in files) if files else None


def register(home: Path) -> dict[str, list[dict]]:
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.connection import connect

    with connect(load_settings()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, BAD_CLASS, PK_VALUE, UPDATED_AT FROM RETAIL.LAKEML_META.INJECTED_BAD_ROWS"
        )
        rows = cur.fetchall()
    found: dict[str, list[dict]] = {}
    for table, bad_class, pk, updated_at in rows:
        found.setdefault(table, []).append({"class": bad_class, "pk": pk, "updated_at": updated_at})
    return found


def test_every_injected_bad_row_is_quarantined_with_a_reason_and_no_good_row_is(lakeml, sources, home):
    sources(ALL_TABLES, contract=True, chunk_rows=500)
    seeded = lakeml("--json", "source", "seed", "--customers", "300", "--days", "40", "--bad-rate", "0.05")
    assert seeded.code == 0, seeded
    build_views(lakeml)
    result = lakeml("--json", "ingest")
    assert result.code == 0, result
    bad = register(home)
    assert sum(len(v) for v in bad.values()) > 20
    classes_seen: set[str] = set()
    for name in TABLES:
        for manifest in manifests(home, name):
            for extracted, landed, quarantined in manifest["batches"]:
                assert extracted == landed + quarantined, (name, manifest["run_id"])
        rejected = quarantined_rows(home, name)
        expected = bad.get(name, [])
        if rejected is None:
            assert expected == [], name
            continue
        key = TABLES[name].primary_key
        got = {
            (None if k is None else str(k), ts): reasons
            for k, ts, reasons in zip(
                rejected.column(key).to_pylist(),
                rejected.column("UPDATED_AT").to_pylist(),
                rejected.column("_reasons").to_pylist(),
                strict=True,
            )
        }
        assert rejected.num_rows == len(expected), (name, rejected.num_rows, len(expected))  # no good row
        for row in expected:
            classes_seen.add(row["class"])
            reasons = got.get((row["pk"], row["updated_at"]))
            assert reasons, (name, row)
            if row["class"] == "duplicate_pk":
                assert reasons == ["duplicate_primary_key"]
            if row["class"] == "malformed_email":  # judged in Snowflake: the address itself stayed there
                assert [r.split(":")[0] for r in reasons] == ["malformed_email"], reasons
        assert not {"EMAIL", "FIRST_NAME", "LAST_NAME"} & set(rejected.column_names), name
    assert {
        "null_pk",
        "duplicate_pk",
        "negative_amount",
        "unknown_enum",
        "future_timestamp",
        "malformed_email",
    } <= classes_seen


def test_after_advance_only_new_and_updated_rows_land(lakeml, sources, home):
    sources(ALL_TABLES, contract=True)
    assert lakeml("--json", "source", "seed", "--customers", "200", "--days", "30").code == 0
    build_views(lakeml)
    first = lakeml("--json", "ingest")
    assert first.code == 0, first
    landed_before = {r["table"]: r["landed"] for r in first.json["runs"]}

    advanced = lakeml("--json", "source", "advance", "--days", "2")
    assert advanced.code == 0, advanced
    changes = advanced.json
    second = lakeml("--json", "ingest")
    assert second.code == 0, second
    for run in second.json["runs"]:
        name = run["table"]
        inserted, updated = changes["inserted"].get(name, 0), changes["updated"].get(name, 0)
        # every new row lands; updated rows land once per new version (at most one per update)
        assert inserted <= run["extracted"] <= inserted + updated, (name, run, inserted, updated)
        assert run["extracted"] < landed_before[name] or landed_before[name] < 50, (name, run)
    assert sum(r["extracted"] for r in second.json["runs"]) > 0
    verify = lakeml("--json", "ingest", "verify")
    assert all((row["missing"], row["duplicates"]) == (0, 0) for row in verify.json.values()), verify.json


def test_generator_drift_quarantine_policy_casts_retyped_columns_and_sets_added_ones_aside(
    lakeml, sources, home
):
    """On the raw tables: a view selects its columns, so a column added upstream reaches ingestion only
    when dbt rebuilds the view; drift handling is about what ingestion reads."""
    sources(ALL_RAW_TABLES, contract=True)
    assert lakeml("--json", "source", "seed", "--customers", "150", "--days", "20").code == 0
    assert lakeml("--json", "ingest").code == 0
    assert lakeml("--json", "source", "drift").code == 0
    assert lakeml("--json", "source", "advance", "--days", "2").code == 0

    stopped = lakeml("--json", "ingest", "--table", "SUPPORT_TICKETS")
    assert stopped.code == 1 and "SATISFACTION_SCORE" in stopped.stderr, stopped

    sources(ALL_RAW_TABLES, contract=True, on_drift="quarantine_rows")
    runs = {r["table"]: r for r in lakeml("--json", "ingest").json["runs"]}
    customers, tickets = runs["CUSTOMERS"], runs["SUPPORT_TICKETS"]
    assert "PREFERRED_LANGUAGE" in customers["drift"]
    assert customers["landed"] == 0 and customers["quarantined"] == customers["extracted"] > 0
    assert "SATISFACTION_SCORE" in tickets["drift"] and tickets["landed"] > 0
    assert tickets["extracted"] == tickets["landed"] + tickets["quarantined"]
    manifest = json.loads(
        (home / "lake/bronze/_manifests/support_tickets" / f"{tickets['run_id']}.json").read_text()
    )
    part = pq.read_schema(home / "lake" / manifest["files"][0]["path"])
    assert str(part.field("SATISFACTION_SCORE").type) == "int64"  # bronze keeps its type for dbt
