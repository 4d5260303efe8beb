"""`mode: unload`: Snowflake writes the window's Parquet straight to the lake with `COPY INTO @stage`.

For very large tables the fetch path's ceiling is the connector's transfer to this process; an unload
lets Snowflake's warehouse write S3 in parallel. The stage must be an external stage whose URL is the
lake bucket root, so `@STAGE/bronze/<table>/…` is the same folder the fetch path writes.

What stays the same: window, run id, manifest, conditional advance, the (key, cursor) dedup at the low
bound (done in SQL here). What differs: rows are not validated in Python (the config requires
`contract: false`; dbt tests check the table) and Snowflake names the files and picks the codec
(Parquet unloads offer SNAPPY/LZO, not zstd).

The local source (fakesnow) cannot run `COPY INTO @stage`, so on `LAKEML_ENV=local` this fails with a
message instead of pretending; the SQL is built by a pure function and unit-tested.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingestion.config import TableConfig
from ingestion.extract import Window
from ingestion.landing import FileRecord, RunPaths, clean_run, write_manifest
from ingestion.watermarks import Watermark
from lakeml.core.errors import UsageError

if TYPE_CHECKING:
    from ingestion.run import RunSummary, _Context

MAX_FILE_SIZE = 256 * 1024 * 1024


def unload_sql(
    table: TableConfig, window: Window, keys_at_low: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """The COPY INTO statement and its bind parameters for one window (values are never in the text)."""
    assert table.stage, "config validation guarantees a stage in unload mode"
    paths = RunPaths(table.lower, window.ingest_date, window.run_id)
    where = [f"{table.cursor} <= %(high)s"]
    binds: dict[str, Any] = {"high": window.high}
    if window.low is not None:
        where.insert(0, f"{table.cursor} >= %(low)s")
        binds["low"] = window.low
        if keys_at_low:
            where.append(
                f"NOT ({table.cursor} = %(low)s AND TO_VARCHAR({table.primary_key}) IN %(keys_at_low)s)"
            )
            binds["keys_at_low"] = tuple(keys_at_low)
    select = f"SELECT * FROM {table.object} WHERE {' AND '.join(where)} ORDER BY {table.cursor}, {table.primary_key}"
    sql = (
        f"COPY INTO {table.stage.rstrip('/')}/{paths.bronze_dir}/part FROM ({select}) "
        "FILE_FORMAT = (TYPE = PARQUET COMPRESSION = SNAPPY) HEADER = TRUE OVERWRITE = TRUE "
        f"MAX_FILE_SIZE = {MAX_FILE_SIZE} DETAILED_OUTPUT = TRUE"
    )
    return sql, binds


def land_unload(
    ctx: _Context, table: TableConfig, window: Window, current: Watermark | None, summary: RunSummary
) -> None:
    from ingestion.run import _advance

    if ctx.env == "local":
        raise UsageError(
            f"table {table.name}: mode 'unload' runs COPY INTO @stage inside Snowflake, which the local "
            "source (fakesnow) cannot run. Set mode: fetch for this table in ingestion/sources.yml locally "
            "(LAKEML_INGEST__SOURCES points at another file), or run against real Snowflake."
        )
    paths = RunPaths(table.lower, window.ingest_date, window.run_id)
    summary.run_id = window.run_id
    clean_run(ctx.lake, paths)
    keys = current.keys_at_cursor if current and window.low is not None else ()
    sql, binds = unload_sql(table, window, keys)
    with ctx.conn.cursor() as cur:
        cur.execute(sql, binds)
        cur.fetchall()
        cur.execute(
            f"SELECT TO_VARCHAR({table.primary_key}) FROM {table.object} WHERE {table.cursor} = %(high)s",
            {"high": window.high},
        )
        keys_at_high = tuple(sorted(str(r[0]) for r in cur.fetchall() if r[0] is not None))
    files: list[FileRecord] = []
    selector = pafs.FileSelector(ctx.lake.path(paths.bronze_dir), allow_not_found=True)
    for info in sorted(ctx.lake.fs.get_file_info(selector), key=lambda i: i.path):
        if info.type != pafs.FileType.File:
            continue
        with ctx.lake.fs.open_input_file(info.path) as handle:
            data = handle.read()
        rows = pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
        relative = f"{paths.bronze_dir}/{info.base_name}"
        files.append(FileRecord(relative, rows, len(data), hashlib.sha256(data).hexdigest()))
    landed = sum(f.rows for f in files)
    new = Watermark(cursor=window.high, keys_at_cursor=keys_at_high, run_id=window.run_id)
    write_manifest(
        ctx.lake,
        table.lower,
        {
            "table": table.name,
            "run_id": window.run_id,
            "ingest_date": window.ingest_date,
            "window_low": window.low.isoformat() if window.low else None,
            "window_high": window.high.isoformat(),
            "mode": window.mode,
            "fetch_mode": "unload",
            "from_run_id": window.from_run_id,
            "extracted": landed,
            "landed": landed,
            "quarantined": 0,
            "batches": [[landed, landed, 0]],
            "min_cursor": None,
            "max_cursor": None,
            "schema_fingerprint": None,
            "schema": [],
            "files": [f.to_json() for f in files],
            "quarantine_files": [],
            "drift": None,
            "supersedes": [],
            "new_watermark": new.to_json(),
            "committed_at": datetime.now(UTC).isoformat(),
        },
    )
    if window.mode != "backfill":
        _advance(ctx.lake, ctx.store, table, current, new, window.run_id)
        summary.watermark_to = new.cursor.isoformat()
    summary.extracted = summary.landed = landed
    summary.files = len(files)
    summary.status = "landed"
