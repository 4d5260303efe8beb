"""`lakeml ingest verify`: does committed bronze hold every source row of the committed windows, once?

What readers see, in one function (`effective_runs`): a run is visible when its manifest exists and no
later full refresh lists it in `supersedes`. Backfill runs are visible too but are re-extracts by design,
so duplicates are counted over the incremental and full-refresh runs only (backfill rows are reported
apart). Rows are compared on (primary key, cursor): an updated row is a new version, not a duplicate.

- source_rows: rows of the source in the committed windows that pass the contract (rows whose
  (key, cursor) is only in quarantine count as accounted, not missing);
- bronze_rows: rows in committed parts of the visible runs;
- missing: source rows in neither bronze nor quarantine;
- duplicates: extra copies of a (key, cursor) in bronze.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.config import TableConfig, load_sources, sources_path
from ingestion.landing import read_manifests, read_parts
from ingestion.run import reading
from lakeml.core.errors import LakemlError
from lakeml.core.lake import LakeStorage
from lakeml.core.settings import Settings

_SIMPLE = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "string": pa.string(),
    "large_string": pa.large_string(),
    "bool": pa.bool_(),
    "double": pa.float64(),
    "float": pa.float32(),
    "date32[day]": pa.date32(),
    "binary": pa.binary(),
    "time64[us]": pa.time64("us"),
    "timestamp[us]": pa.timestamp("us"),
    "timestamp[ns]": pa.timestamp("ns"),
    "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
    "null": pa.null(),
}
_DECIMAL = re.compile(r"^decimal128\((\d+), (\d+)\)$")


def parse_type(text: str) -> pa.DataType:
    """Inverse of `str(pa.DataType)` for the types bronze uses (manifests store schemas as text)."""
    if text in _SIMPLE:
        return _SIMPLE[text]
    match = _DECIMAL.match(text)
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    raise LakemlError(f"manifest type {text!r} is unknown to ingestion/verify.parse_type; add it there")


def effective_runs(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The committed runs a reader should use: every manifest not superseded by a later full refresh."""
    superseded = {run for m in manifests for run in m.get("supersedes", [])}
    return [m for m in manifests if m["run_id"] not in superseded]


def verify(settings: Settings, tables: list[str] | None = None) -> dict[str, dict[str, Any]]:
    from ingestion.connection import source_connection

    config = load_sources()
    chosen = [config.table(t) for t in tables] if tables else list(config.tables.values())
    from lakeml.wiring import adapters  # TODO(issue 11): ports passed in

    lake_fs = adapters(settings).lake
    conn = source_connection(settings)
    return {t.name: verify_table(lake_fs, conn, t, config.path) for t in chosen}


def _keys(rows: pa.Table | None, table: TableConfig) -> list[tuple[str, Any]]:
    if rows is None or rows.num_rows == 0:
        return []
    keys = pc.cast(rows.column(table.primary_key), pa.string()).to_pylist()
    cursors = pc.cast(rows.column(table.cursor), pa.timestamp("us")).to_pylist()
    return [(k, c) for k, c in zip(keys, cursors, strict=True) if k is not None]


def verify_table(
    lake_fs: LakeStorage, conn: Any, table: TableConfig, sources: Path | None = None
) -> dict[str, Any]:
    columns = [table.primary_key, table.cursor]
    runs = effective_runs(read_manifests(lake_fs, table.lower))
    progressive = [m for m in runs if m["mode"] != "backfill"]
    bronze: Counter[tuple[str, Any]] = Counter()
    quarantined: set[tuple[str, Any]] = set()
    quarantined_rows = 0
    for manifest in progressive:
        bronze.update(_keys(read_parts(lake_fs, manifest["files"], columns), table))
        rows = read_parts(lake_fs, manifest.get("quarantine_files", []), columns)
        quarantined_rows += rows.num_rows if rows is not None else 0
        quarantined.update(_keys(rows, table))
    backfill_rows = sum(m["landed"] for m in runs if m["mode"] == "backfill")
    highs = [datetime.fromisoformat(m["window_high"]) for m in progressive]
    source: set[tuple[str, Any]] = set()
    if highs:
        with reading(table, sources or sources_path()), conn.cursor() as cur:
            cur.execute(
                f"SELECT {table.primary_key}, {table.cursor} FROM {table.object} WHERE {table.cursor} <= %(high)s",
                {"high": max(highs)},
            )
            result = cur.fetch_arrow_all()
        source = set(_keys(result, table))
    accounted_only_in_quarantine = {k for k in source if k in quarantined and k not in bronze}
    return {
        "source_rows": len(source) - len(accounted_only_in_quarantine),
        "bronze_rows": sum(bronze.values()),
        "quarantined_rows": quarantined_rows,
        "missing": sum(1 for k in source if k not in bronze and k not in quarantined),
        "duplicates": sum(n - 1 for n in bronze.values() if n > 1),
        "backfill_rows": backfill_rows,
        "committed_runs": len(progressive),
        "committed_through": max(highs).isoformat() if highs else None,
    }
