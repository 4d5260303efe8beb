"""`lakeml ingest verify`: does committed bronze hold every source row of the committed windows, once?

What readers see is decided by one function, `ingestion.visibility.visible_runs` (the same rule dbt's
bronze relations follow through the visibility index). Backfill runs are visible too but are re-extracts
by design, so duplicates are counted over the incremental and full-refresh runs only (backfill rows are
reported apart). Rows are compared on (primary key, cursor): an updated row is a new version, not a
duplicate.

- source_rows: rows of the source in the committed windows (up to the newest run's window or the stored
  watermark, whichever is later) that pass the contract (rows whose
  (key, cursor) is only in quarantine count as accounted, not missing);
- bronze_rows: rows in committed parts of the visible runs (what dbt's bronze relation shows, minus
  backfill rows);
- missing: source rows in neither bronze nor quarantine;
- duplicates: extra copies of a (key, cursor) in bronze.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.config import TableConfig, load_sources, sources_path
from ingestion.context import IngestPorts
from ingestion.landing import read_parts
from ingestion.manifest import read_manifests
from ingestion.source.port import reading_object
from ingestion.visibility import visible_runs
from ingestion.watermarks.port import Watermark
from lakeml.core.errors import LakemlError
from lakeml.core.lake import LakeStorage
from lakeml.core.settings import Settings


def verify(
    settings: Settings, ports: IngestPorts, tables: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per table (all configured by default), the counts above."""
    config = load_sources(sources_path(settings))
    chosen = [config.table(t) for t in tables] if tables else list(config.tables.values())
    return {
        t.name: verify_table(
            ports.lake, ports.source.connection(), t, config.path, ports.watermarks.get(t.name)
        )
        for t in chosen
    }


def _keys(rows: pa.Table | None, table: TableConfig) -> list[tuple[str, Any]]:
    if rows is None or rows.num_rows == 0:
        return []
    keys = pc.cast(rows.column(table.primary_key), pa.string()).to_pylist()
    cursors = pc.cast(rows.column(table.cursor), pa.timestamp("us")).to_pylist()
    return [(k, c) for k, c in zip(keys, cursors, strict=True) if k is not None]


def verify_table(
    lake: LakeStorage, conn: Any, table: TableConfig, sources: Path, watermark: Watermark | None = None
) -> dict[str, Any]:
    columns = [table.primary_key, table.cursor]
    runs = visible_runs(read_manifests(lake, table.lower))
    progressive = [m for m in runs if m.mode != "backfill"]
    bronze: Counter[tuple[str, Any]] = Counter()
    quarantined: set[tuple[str, Any]] = set()
    quarantined_rows = 0
    for manifest in progressive:
        try:
            bronze.update(_keys(read_parts(lake, manifest.files, columns), table))
            rows = read_parts(lake, manifest.quarantine_files, columns)
        except FileNotFoundError as exc:
            raise LakemlError(
                f"table {table.name}: run {manifest.run_id} is committed but a part its manifest lists is gone "
                f"({exc}). Bring it back from the lake's versions: `lakeml ingest restore --table {table.name} "
                f"--run {manifest.run_id}` (docs/runbook.md, Disaster recovery)"
            ) from None
        quarantined_rows += rows.num_rows if rows is not None else 0
        quarantined.update(_keys(rows, table))
    backfill_rows = sum(m.landed for m in runs if m.mode == "backfill")
    highs = [m.window_high for m in progressive]
    # The watermark bounds the committed windows too: if the newest runs' manifests were deleted (or the
    # watermark was written ahead of the data), their rows are then reported missing instead of the
    # check silently ending at the newest manifest left.
    bound = max([*highs, *([watermark.cursor] if watermark else [])], default=None)
    source: set[tuple[str, Any]] = set()
    if bound is not None:
        with reading_object(table, sources), conn.cursor() as cur:
            cur.execute(
                f"SELECT {table.primary_key}, {table.cursor} FROM {table.object} WHERE {table.cursor} <= %(high)s",
                {"high": bound},
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
