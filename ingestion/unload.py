"""`mode: unload`: Snowflake writes the window's Parquet straight to the lake with `COPY INTO @stage`.

For very large tables the fetch path's ceiling is the connector's transfer to this process; an unload
lets Snowflake's warehouse write S3 in parallel. The stage must be an external stage whose URL is the
lake bucket root, so `@STAGE/bronze/<table>/…` is the same folder the fetch path writes.

What stays the same: window, run id, manifest, conditional advance, the (key, cursor) dedup at the low
bound (done in SQL here). What differs: rows are not validated in Python (the config requires
`contract: false`; dbt tests check the table) and Snowflake names the files and picks the codec
(Parquet unloads offer SNAPPY/LZO, not zstd).

The local source (fakesnow) cannot run `COPY INTO @stage` (its connector says so: `can_unload` is False),
so there this fails with a message instead of pretending; the SQL is built by a pure function and
unit-tested.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingestion.commit import commit
from ingestion.config import TableConfig
from ingestion.context import RunContext
from ingestion.extract import Window
from ingestion.landing import RunPaths, clean_run
from ingestion.manifest import FileRecord, Manifest, read_manifests
from ingestion.report import RunSummary, iso
from ingestion.visibility import supersedes
from ingestion.watermarks.port import Watermark
from lakeml.core.errors import UsageError

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
    ctx: RunContext, table: TableConfig, window: Window, current: Watermark | None, summary: RunSummary
) -> None:
    """Land and commit `window` of `table` with one COPY INTO, starting from watermark `current`."""
    if not ctx.source.can_unload:
        raise UsageError(
            f"table {table.name}: mode 'unload' runs COPY INTO @stage inside Snowflake, which the local "
            "source (fakesnow) cannot run. Set mode: fetch for this table in ingestion/sources.yml locally "
            "(LAKEML_INGEST__SOURCES points at another file), or run against real Snowflake."
        )
    paths = RunPaths(table.lower, window.ingest_date, window.run_id)
    summary.run_id = window.run_id
    summary.window_low, summary.window_high = iso(window.low), iso(window.high)
    manifests = read_manifests(ctx.lake, table.lower)
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
    files = unloaded_files(ctx, paths)
    landed = sum(f.rows for f in files)
    new = Watermark(
        cursor=window.high if window.mode != "backfill" else (current.cursor if current else window.high),
        keys_at_cursor=keys_at_high,
        run_id=window.run_id,
    )
    manifest = Manifest(
        table=table.name,
        run_id=window.run_id,
        ingest_date=window.ingest_date,
        window_low=window.low,
        window_high=window.high,
        mode=window.mode,
        fetch_mode="unload",
        from_run_id=window.from_run_id,
        extracted=landed,
        landed=landed,
        quarantined=0,
        skipped_at_watermark=0,  # done in SQL, not counted
        batches=[(landed, landed, 0)],
        min_cursor=None,
        max_cursor=None,
        schema_fingerprint=None,  # Snowflake picks the Parquet types; dbt reads them from the parts
        columns=[],
        source_schema=[],
        files=files,
        quarantine_files=[],
        drift=None,
        supersedes=supersedes(window.mode, manifests),
        new_watermark=new,
        committed_at=datetime.now(UTC),
    )
    commit(ctx.lake, ctx.watermarks, table, manifest, current, ctx.faults)
    if window.mode != "backfill":
        summary.watermark_to = iso(new.cursor)
    summary.extracted = summary.landed = landed
    summary.files = len(files)
    summary.bytes = sum(f.bytes for f in files)
    summary.status = "landed"


def unloaded_files(ctx: RunContext, paths: RunPaths) -> list[FileRecord]:
    """The parts Snowflake wrote into the run's bronze folder, read back for rows, size and hash."""
    files: list[FileRecord] = []
    selector = pafs.FileSelector(ctx.lake.path(paths.bronze_dir), allow_not_found=True)
    for info in sorted(ctx.lake.fs.get_file_info(selector), key=lambda i: i.path):
        if info.type != pafs.FileType.File:
            continue
        with ctx.lake.fs.open_input_file(info.path) as handle:
            data = handle.read()
        rows = pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
        path = f"{paths.bronze_dir}/{info.base_name}"
        files.append(
            FileRecord(path=path, rows=rows, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        )
    return files
