"""The pure parts of ingestion, without a source: chunking, set checks, run ids, SQL, config, recovery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.commit import reconcile
from ingestion.config import TableConfig, load_sources
from ingestion.extract import Mode, Stream, Window, arrow_type, page_bounds_sql, select_sql
from ingestion.manifest import Manifest, manifest_path, read_manifests, write_manifest
from ingestion.retry import is_transient
from ingestion.schema import TABLES, VIEWS
from ingestion.unload import unload_sql
from ingestion.validate import AccountingError, Validator
from ingestion.visibility import publish_visibility, read_visibility, visible_runs
from ingestion.watermarks.port import Watermark
from ingestion.watermarks.sqlite import SqliteWatermarkStore
from lakeml.core.errors import UsageError
from lakeml.core.lake.local import LocalLake

T = datetime(2025, 5, 1, 12, 0)
SCHEMA = pa.schema([("ORDER_ID", pa.int64()), ("UPDATED_AT", pa.timestamp("us"))])


def orders_config(tmp_path: Path, **options: Any):
    path = tmp_path / "sources.yml"
    opts = "".join(f"\n    {k}: {v}" for k, v in options.items())
    path.write_text(f"tables:\n  ORDERS:{opts or ' {}'}\n")
    return load_sources(path).table("ORDERS")


def batch(ids: list[int], minutes: list[int]) -> pa.Table:
    return pa.table(
        {"ORDER_ID": pa.array(ids, pa.int64()), "UPDATED_AT": [T + timedelta(minutes=m) for m in minutes]},
        schema=SCHEMA,
    )


class FakeCursor:
    def __init__(self, batches: list[pa.Table]) -> None:
        self.batches = batches
        self.description = [
            SimpleNamespace(name="ORDER_ID", type_code=0, precision=38, scale=0),
            SimpleNamespace(name="UPDATED_AT", type_code=8, precision=0, scale=9),
        ]
        self.closed = False

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        self.sql, self.params = sql, params

    def fetchall(self) -> list[tuple[Any, ...]]:  # the page bounds: no full page in these windows
        return []

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_arrow_batches(self):
        yield from self.batches

    def close(self) -> None:
        self.closed = True


def test_stream_recuts_any_connector_batches_into_fixed_chunks(tmp_path):
    table = orders_config(tmp_path, chunk_rows=4)
    sizes = [3, 1, 6, 2, 5]
    batches, start = [], 0
    for size in sizes:
        batches.append(batch(list(range(start, start + size)), [0] * size))
        start += size
    cursor = FakeCursor(batches)
    conn = SimpleNamespace(cursor=lambda: cursor)
    stream = Stream(conn, table, Window("ORDERS", None, T, "incremental"))
    chunks = list(stream.chunks())
    assert [c.num_rows for c in chunks] == [4, 4, 4, 4, 1]
    assert pa.concat_tables(chunks).column("ORDER_ID").to_pylist() == list(range(17))
    assert cursor.closed and "%(high)s" in cursor.sql
    assert cursor.params == {"high": T}  # the page query; `page_rows` went to the bounds query


def test_duplicate_copies_are_found_across_chunk_boundaries(tmp_path):
    table = orders_config(tmp_path, contract="false")
    window = Window("ORDERS", None, T + timedelta(minutes=9), "incremental")
    validator = Validator(table, SCHEMA, window, frozenset(), T, contract=None)
    first = validator(batch([1, 2, 3], [0, 0, 1]))
    second = validator(batch([3, 3, 4], [1, 1, 1]))  # 3@1 continues across the boundary
    assert first.quarantined.num_rows == 0
    assert second.quarantined.column("ORDER_ID").to_pylist() == [3, 3]
    assert second.quarantined.column("_reasons").to_pylist() == [["duplicate_primary_key"]] * 2
    assert (validator.extracted, validator.landed, validator.quarantined) == (6, 4, 2)


def test_rows_at_the_low_bound_already_landed_are_skipped_by_key(tmp_path):
    table = orders_config(tmp_path, contract="false")
    window = Window("ORDERS", T, T + timedelta(minutes=5), "incremental")
    validator = Validator(table, SCHEMA, window, frozenset({"1", "2"}), T, contract=None)
    out = validator(batch([1, 2, 7, 3], [0, 0, 0, 5]))
    assert out.good.column("ORDER_ID").to_pylist() == [7, 3]
    assert validator.skipped == 2 and validator.keys_at_high == {"3"}


def test_a_contract_that_loses_rows_stops_the_run(tmp_path, monkeypatch):
    table = orders_config(tmp_path)

    def lossy(_table, rows, *, now):
        return SimpleNamespace(
            good=rows.slice(1),
            quarantined=rows.slice(0, 0).append_column("_reasons", pa.array([], pa.list_(pa.string()))),
        )

    monkeypatch.setattr("ingestion.contracts.check_batch", lossy)
    window = Window("ORDERS", None, T, "incremental")
    validator = Validator(table, SCHEMA, window, frozenset(), T, contract=object())
    with pytest.raises(AccountingError, match="extracted 2 rows but landed 1"):
        validator(batch([1, 2], [0, 0]))


def test_run_id_is_a_function_of_table_window_mode_and_starting_state():
    base = Window("ORDERS", T, T + timedelta(hours=1), "incremental", "r0")
    assert base.run_id == Window("ORDERS", T, T + timedelta(hours=1), "incremental", "r0").run_id
    others = {
        Window("ORDERS", T, T + timedelta(hours=2), "incremental", "r0").run_id,
        Window("ORDERS", None, T + timedelta(hours=1), "full_refresh", "r0").run_id,
        Window("ORDERS", T, T + timedelta(hours=1), "incremental", "r1").run_id,
        Window("CUSTOMERS", T, T + timedelta(hours=1), "incremental", "r0").run_id,
    }
    assert base.run_id not in others and len(others) == 4
    assert base.run_id.startswith("20250501T130000-") and base.ingest_date == "2025-05-01"


def test_sql_carries_values_only_as_bind_parameters(tmp_path):
    table = orders_config(tmp_path, mode="unload", stage="'@RETAIL.RAW.LAKE'", contract="false")
    window = Window("ORDERS", T, T + timedelta(hours=1), "incremental", "r0")
    sql, binds = unload_sql(table, window, ("17", "18"))
    assert sql.startswith(
        f"COPY INTO @RETAIL.RAW.LAKE/bronze/orders/ingest_date=2025-05-01/run_id={window.run_id}/"
    )
    assert (
        "UPDATED_AT >= %(low)s" in sql
        and "IN %(keys_at_low)s" in sql
        and "ORDER BY UPDATED_AT, ORDER_ID" in sql
    )
    assert "TYPE = PARQUET" in sql and "2025" not in sql.split("FROM", 1)[1] and "17" not in sql
    assert binds == {"low": T, "high": T + timedelta(hours=1), "keys_at_low": ("17", "18")}
    assert select_sql(table, None) == (
        "SELECT * FROM RETAIL.EXTRACT.ORDERS WHERE UPDATED_AT <= %(high)s "
        "ORDER BY UPDATED_AT, ORDER_ID NULLS LAST"
    )
    assert "%(after_cursor)s" in select_sql(table, T, "key") and "%(after_key)s" in select_sql(
        table, T, "key"
    )
    page = select_sql(table, T, "key", "key")  # a page is a (cursor, key) range, never a LIMIT
    assert "UPDATED_AT >= %(after_cursor)s" in page and "UPDATED_AT <= %(upto_cursor)s" in page
    assert "ORDER_ID <= %(upto_key)s" in page and "LIMIT" not in page
    assert "ORDER_ID" not in select_sql(table, T, None, "null_key").split("ORDER BY")[0]
    assert "MOD(LAKEML_ROW, %(page_rows)s) = 0" in page_bounds_sql(table, T)


def test_bronze_types_follow_snowflake_metadata_not_the_connectors_choice():
    assert arrow_type(0, 38, 0) == pa.int64() and arrow_type(0, 9, 0) == pa.int64()
    assert arrow_type(0, 12, 2) == pa.decimal128(12, 2)
    assert arrow_type(8, 0, 9) == pa.timestamp("us") and arrow_type(7, 0, 9) == pa.timestamp("us", tz="UTC")
    assert arrow_type(2, None, None) == pa.string() and arrow_type(13, None, None) == pa.bool_()


def test_only_transient_errors_are_retried():
    from snowflake.connector import errors as sf

    assert is_transient(sf.OperationalError("connection reset"))
    assert is_transient(OSError("AWS Error SLOW_DOWN during PutObject"))
    assert not is_transient(sf.ProgrammingError("SQL compilation error: object does not exist"))
    assert not is_transient(OSError("AWS Error ACCESS_DENIED during PutObject"))
    assert not is_transient(ValueError("bad"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("tables:\n  ORDERS:\n    lag_seconds: -1\n", "table ORDERS: lag_seconds"),
        ("tables:\n  ORDERS:\n    mode: unload\n", "needs stage"),
        ("tables:\n  WIDGETS: {}\n", "table WIDGETS: primary_key: required"),
        ("tables:\n  ORDERS:\n    object: 'RETAIL.RAW.ORDERS; DROP'\n", "not a Snowflake name"),
        (
            "tables:\n  ORDERS:\n    object: RETAIL.STAGING.ORDERS\n",
            "table ORDERS: object 'RETAIL.STAGING.ORDERS': contract: true picks the contract by the schema "
            "of object, EXTRACT (the extraction view, the default) or RAW (the raw table), and STAGING is "
            "neither; set object: RETAIL.EXTRACT.ORDERS or RETAIL.RAW.ORDERS, or contract: false",
        ),
        ("tables:\n  ORDERS:\n    object: ORDERS\n", "an unqualified name is neither"),
        ("defaults:\n  compresion: zstd\ntables:\n  ORDERS: {}\n", "defaults: compresion: unknown key"),
        ("tables: [ORDERS]\n", "non-empty 'tables:'"),
    ],
)
def test_config_errors_name_file_table_and_key(tmp_path, body, message):
    path = tmp_path / "sources.yml"
    path.write_text(body)
    with pytest.raises(UsageError) as error:
        load_sources(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_packaged_sources_file_reads_the_extraction_views():
    config = load_sources()
    assert list(config.tables) == ["CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS"]
    assert [t.object for t in config.tables.values()] == [f"RETAIL.EXTRACT.{name}" for name in config.tables]
    assert config.table("ORDERS").cursor == "UPDATED_AT"
    assert all(t.contract_table == VIEWS[t.name] for t in config.tables.values())


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, VIEWS["CUSTOMERS"]),
        ({"object": "RETAIL.EXTRACT.CUSTOMERS"}, VIEWS["CUSTOMERS"]),
        ({"object": "retail.raw.customers"}, TABLES["CUSTOMERS"]),
        ({"object": "RAW.CUSTOMERS"}, TABLES["CUSTOMERS"]),
        ({"object": "RETAIL.STAGING.CUSTOMERS", "contract": "false"}, None),
    ],
)
def test_the_contract_follows_the_schema_of_the_object(tmp_path, options, expected):
    path = tmp_path / "sources.yml"
    opts = "".join(f"\n    {k}: {v}" for k, v in options.items())
    path.write_text(f"tables:\n  CUSTOMERS:{opts or ' {}'}\n")
    assert load_sources(path).table("CUSTOMERS").contract_table == expected


def manifest(
    run_id: str,
    from_run_id: str | None,
    high: datetime,
    committed: int,
    mode: Mode = "incremental",
    supersedes: tuple[str, ...] = (),
) -> Manifest:
    """A committed run of ORDERS with no parts; `committed` orders the runs (minutes after T)."""
    return Manifest(
        table="ORDERS",
        run_id=run_id,
        ingest_date=high.date().isoformat(),
        window_low=None,
        window_high=high,
        mode=mode,
        fetch_mode="fetch",
        from_run_id=from_run_id,
        extracted=0,
        landed=0,
        quarantined=0,
        batches=[],
        min_cursor=None,
        max_cursor=None,
        schema_fingerprint="f",
        columns=[],
        files=[],
        quarantine_files=[],
        drift=None,
        supersedes=list(supersedes),
        new_watermark=Watermark(high, ("1",), run_id),
        committed_at=(T + timedelta(minutes=committed)).replace(tzinfo=UTC),
    )


def test_recovery_rolls_a_committed_run_forward_and_uncommits_its_losing_sibling(tmp_path):
    lake_fs = LocalLake.create(tmp_path / "lake")
    store = SqliteWatermarkStore(tmp_path / "state.db")
    table = orders_config(tmp_path)
    first = manifest("r1", None, T, 1)
    store.advance("ORDERS", None, first.new_watermark)
    for run in (
        first,
        manifest("r2a", "r1", T + timedelta(hours=1), 2),
        manifest("r2b", "r1", T + timedelta(hours=2), 3),
    ):
        write_manifest(lake_fs, run)
    current, recovered = reconcile(lake_fs, store, table, store.get("ORDERS"))
    assert recovered == ["r2b"] and current == store.get("ORDERS") and current.run_id == "r2b"
    assert [m.run_id for m in read_manifests(lake_fs, "orders")] == ["r1", "r2b"]
    assert json.loads(Path(lake_fs.path(manifest_path("orders", "r2b"))).read_text())["run_id"] == "r2b"


def test_lakeml_run_ingests_after_the_source_and_before_anything_reads_bronze():
    from lakeml.flow.stages import STAGES

    names = [stage.name for stage in STAGES]
    assert names.index("source") < names.index("views") < names.index("ingest")  # ingest reads the views
    assert all(
        names.index("ingest") < names.index(later) for later in ("transform", "train") if later in names
    )


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 9), max_size=12), chunk=st.integers(1, 7))
def test_chunking_keeps_every_row_in_order_whatever_the_batch_sizes(sizes, chunk):
    table = TableConfig(
        name="ORDERS",
        object="RETAIL.RAW.ORDERS",
        primary_key="ORDER_ID",
        cursor="UPDATED_AT",
        chunk_rows=chunk,
    )
    batches, start = [], 0
    for size in sizes:
        # the connector may type an integer column differently per batch: int32 here, int64 in the schema
        ids = pa.array(range(start, start + size), pa.int32())
        batches.append(pa.table({"ORDER_ID": ids, "UPDATED_AT": pa.array([T] * size, pa.timestamp("ns"))}))
        start += size
    cursor = FakeCursor(batches)
    stream = Stream(SimpleNamespace(cursor=lambda: cursor), table, Window("ORDERS", None, T, "incremental"))
    chunks = list(stream.chunks())
    assert all(c.num_rows == chunk for c in chunks[:-1]) and all(0 < c.num_rows <= chunk for c in chunks)
    got = [v for c in chunks for v in c.column("ORDER_ID").to_pylist()]
    assert got == list(range(start)) and all(c.schema == SCHEMA for c in chunks)


def test_a_full_refresh_hides_the_runs_it_supersedes_and_the_index_shows_what_verify_counts(tmp_path):
    lake = LocalLake.create(tmp_path / "lake")
    runs = (
        manifest("r1", None, T, 1),
        manifest("r2", "r1", T + timedelta(hours=1), 2),
        manifest("f3", "r2", T + timedelta(hours=2), 3, "full_refresh", ("r1", "r2")),
        manifest("r4", "f3", T + timedelta(hours=3), 4),
    )
    for run in runs:
        write_manifest(lake, run)
    assert [m.run_id for m in visible_runs(read_manifests(lake, "orders"))] == ["f3", "r4"]
    assert read_visibility(lake, "orders") == []  # committed, but not yet published

    publish_visibility(lake)  # no tables named: every table with manifests

    index = read_visibility(lake, "orders")
    assert [(r.run_id, r.mode) for r in index] == [("f3", "full_refresh"), ("r4", "incremental")]
    assert index[0].committed_at == runs[2].committed_at.isoformat()
    assert not list(Path(lake.path("bronze/_visible")).glob(".tmp-*"))  # moved into place whole


def test_the_manifest_keeps_its_json_shape(tmp_path):
    lake = LocalLake.create(tmp_path / "lake")
    write_manifest(lake, manifest("r1", None, T, 1))
    doc = json.loads(Path(lake.path(manifest_path("orders", "r1"))).read_text())
    assert doc["window_high"] == T.isoformat() and doc["committed_at"].endswith("+00:00")
    assert doc["schema"] == [] and "columns" not in doc
    assert doc["new_watermark"] == {"cursor": T.isoformat(), "keys_at_cursor": ["1"], "run_id": "r1"}
    assert Manifest.model_validate(doc) == manifest("r1", None, T, 1)
