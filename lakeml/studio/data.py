"""The studio's Data page: the lake's tables with row counts per layer, the quarantine with its reasons,
the last ingestion of each table and the last dbt build — all read through the lake storage port, so
the same page reads the local lake folder or the S3 lake (LAKEML_ENV=aws).

Row counts come from Parquet footers (`pyarrow.dataset.count_rows`), never a table scan; files and
folders starting with `_` or `.` (manifests, temporary files, Spark's markers) are not data.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pyarrow.fs as pafs

from ingestion.landing import REASONS
from ingestion.manifest import MANIFESTS, read_manifests
from lakeml.core.lake import BRONZE, GOLD, QUARANTINE, SILVER, LakeStorage
from lakeml.core.lake.runs import RUN_RESULTS, dbt_run_file, latest_dbt_run, read_json

LAYERS = (BRONZE, SILVER, GOLD, QUARANTINE)
TOP_REASONS = 10


def tables(lake: LakeStorage, layer: str) -> list[str]:
    infos = lake.fs.get_file_info(pafs.FileSelector(lake.path(layer), allow_not_found=True))
    return sorted(
        i.base_name
        for i in infos
        if i.type == pafs.FileType.Directory and not i.base_name.startswith(("_", "."))
    )


def dataset(lake: LakeStorage, layer: str, table: str) -> ds.Dataset:
    return ds.dataset(lake.path(layer, table), filesystem=lake.fs, format="parquet", partitioning="hive")


def count_rows(lake: LakeStorage, layer: str, table: str) -> int | None:
    try:
        return int(dataset(lake, layer, table).count_rows())
    except (OSError, ValueError):  # not Parquet (or being written): shown as unknown, never fatal
        return None


def layers(lake: LakeStorage) -> list[dict[str, Any]]:
    return [
        {
            "layer": layer,
            "tables": [{"table": t, "rows": count_rows(lake, layer, t)} for t in tables(lake, layer)],
        }
        for layer in LAYERS
    ]


def quarantine(lake: LakeStorage) -> list[dict[str, Any]]:
    """Per quarantined table: rows, and how often each reason was given (a row may have several)."""
    found: list[dict[str, Any]] = []
    for table in tables(lake, QUARANTINE):
        try:
            column = dataset(lake, QUARANTINE, table).to_table(columns=[REASONS]).column(REASONS)
        except (OSError, ValueError, KeyError) as exc:
            found.append({"table": table, "rows": None, "reasons": [], "error": str(exc)})
            continue
        counts = Counter(reason for reasons in column.to_pylist() for reason in reasons or [])
        found.append(
            {
                "table": table,
                "rows": len(column),
                "reasons": [{"reason": r, "rows": n} for r, n in counts.most_common(TOP_REASONS)],
            }
        )
    return found


def last_ingestions(lake: LakeStorage) -> list[dict[str, Any]]:
    """The newest committed run of each bronze table (its manifest, under bronze/_manifests/<table>)."""
    rows = []
    for table in tables(lake, f"{BRONZE}/{MANIFESTS}"):
        manifests = read_manifests(lake, table)
        if not manifests:
            continue
        last = max(manifests, key=lambda m: m.committed_at)
        rows.append(
            {
                "table": table,
                "run_id": last.run_id,
                "committed_at": last.committed_at.isoformat(),
                "mode": last.mode,
                "window": f"{last.window_low.isoformat() if last.window_low else '(beginning)'} .. "
                f"{last.window_high.isoformat()}",
                "extracted": last.extracted,
                "landed": last.landed,
                "quarantined": last.quarantined,
                "drift": last.drift,
                "runs": len(manifests),
            }
        )
    return rows


def dbt_run(lake: LakeStorage) -> dict[str, Any] | None:
    """The last dbt build transform published (`runs/dbt/latest.json`) with its nodes' outcomes."""
    latest = latest_dbt_run(lake)
    if latest is None:
        return None
    results = read_json(lake, dbt_run_file(latest.invocation_id, RUN_RESULTS)) or {}
    outcomes = Counter(str(r.get("status")) for r in results.get("results", []))
    return {
        **latest.to_json(),
        "nodes": sum(outcomes.values()),
        "outcomes": dict(sorted(outcomes.items())),
        "elapsed_seconds": results.get("elapsed_time"),
    }


def document(lake: LakeStorage, docs_dir: Path | None) -> dict[str, Any]:
    return {
        "lake": lake.uri,
        "layers": layers(lake),
        "quarantine": quarantine(lake),
        "ingestions": last_ingestions(lake),
        "dbt": dbt_run(lake),
        "dbt_docs": docs_dir is not None and (docs_dir / "index.html").is_file(),
    }
