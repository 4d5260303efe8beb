"""What the monitor reads, all through the lake port: ingestion's manifests and dbt's published results.

Ingestion's committed manifests are the record of what landed (`ingestion.manifest`, with its one
visibility rule), so quarantine counts and watermarks come from them rather than from a second
bookkeeping. dbt's run results are read where `lakeml transform` publishes them (`runs/dbt/latest.json`
points at `runs/dbt/<invocation_id>/run_results.json`), which is the same locally and on S3, and
outlives the ECS task dbt ran in. An ingestion result (`lakeml ingest`'s report, or Step Functions'
Map output) can be given too: a table that failed this time shows as failed even though its earlier runs
are still in the lake.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.fs as pafs

from ingestion.manifest import read_manifests
from ingestion.visibility import visible_runs
from lakeml.core.errors import LakemlError
from lakeml.core.lake import LakeStorage
from lakeml.monitor.report import DbtQuality, TableQuality

DBT_LATEST = "runs/dbt/latest.json"
FAILED_STATUSES = {"error", "fail", "runtime error"}
MAX_MESSAGE = 300


def read_json(lake: LakeStorage, path: str) -> Any:
    """A JSON file of the lake (path inside `fs`), or None when there is none."""
    if lake.fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with lake.fs.open_input_stream(path) as stream:
        text = stream.read().decode()
    try:
        return json.loads(text)
    except ValueError:
        raise LakemlError(f"{path} in the lake is not JSON; remove it or re-run what writes it") from None


def dbt_quality(lake: LakeStorage) -> DbtQuality:
    """The latest dbt build's outcome; `missing` (with what to do) when transform never published one."""
    latest = read_json(lake, lake.path(DBT_LATEST))
    if latest is None:
        return DbtQuality(
            status="missing",
            message=f"no dbt run: {lake.uri_of(DBT_LATEST)} does not exist; run `lakeml transform` "
            "(on AWS, the flow's dbt stage) before the quality check",
        )
    uri = str(latest.get("run_results") or "")
    base = {
        "invocation_id": latest.get("invocation_id"),
        "run_results": uri or None,
        "generated_at": latest.get("generated_at"),
        "target": latest.get("target"),
    }
    try:
        results = read_json(lake, lake.resolve(uri)) if uri else None
    except ValueError as exc:
        results, problem = None, str(exc)
    else:
        problem = f"{uri or 'run_results'} does not exist"
    if results is None:
        return DbtQuality(
            status="failed",
            failures=1,
            message=f"{DBT_LATEST} names run results that cannot be read ({problem}); re-run transform",
            **base,
        )
    nodes = results.get("results") or []
    failed = [
        {
            "node": str(node.get("unique_id")),
            "status": str(node.get("status")),
            "message": str(node.get("message") or "")[:MAX_MESSAGE],
        }
        for node in nodes
        if str(node.get("status")) in FAILED_STATUSES
    ]
    warnings = sum(str(node.get("status")) == "warn" for node in nodes)
    failures = len(failed)
    if not latest.get("success", True) and not failures:
        failures = 1  # dbt itself failed (compilation, connection) before any node reported
        failed = [{"node": "dbt", "status": "error", "message": "the build failed; see the dbt log"}]
    return DbtQuality(
        status="failed" if failures else "ok",
        nodes=len(nodes),
        failures=failures,
        warnings=warnings,
        failed=failed,
        message=f"{failures} of {len(nodes)} dbt nodes failed" if failures else "",
        **base,
    )


def ingest_failures(ingest: Any) -> dict[str, str]:
    """Failed tables (upper case) -> error, from `lakeml ingest`'s report (`{"runs": [...]}`), a list of
    such reports (Step Functions' Map output), or a list of run summaries. Anything else is ignored."""
    failures: dict[str, str] = {}
    for run in _runs(ingest):
        table = str(run.get("table") or "").upper()
        if table and (run.get("status") == "failed" or "Error" in run):
            error = run.get("error") or run.get("Cause") or run.get("Error") or "failed"
            failures[table] = str(error)[:MAX_MESSAGE]
    return failures


def _runs(ingest: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(ingest, Mapping):
        if isinstance(ingest.get("runs"), list):
            yield from (r for r in ingest["runs"] if isinstance(r, Mapping))
        else:
            yield ingest
    elif isinstance(ingest, list):
        for item in ingest:
            yield from _runs(item)


def table_quality(
    lake: LakeStorage, table: str, now: datetime, window_hours: float, failure: str | None
) -> TableQuality:
    """One table from its committed, visible manifests: counts in the window, watermark and its lag."""
    runs = visible_runs(read_manifests(lake, table.lower()))
    since = now - timedelta(hours=window_hours)
    recent = [m for m in runs if _utc(m.committed_at) >= since]
    extracted = sum(m.extracted for m in recent)
    quarantined = sum(m.quarantined for m in recent)
    latest = max(runs, key=lambda m: (m.committed_at, m.run_id)) if runs else None
    cursor = max((_utc(m.new_watermark.cursor) for m in runs), default=None)
    lag = round(max((now - cursor).total_seconds(), 0.0) / 3600, 3) if cursor else None
    status = "failed" if failure else ("ok" if runs else "missing")
    return TableQuality(
        table=table,
        status=status,
        visible_runs=len(runs),
        runs_in_window=len(recent),
        extracted=extracted,
        quarantined=quarantined,
        quarantine_rate=round(quarantined / extracted, 6) if extracted else None,
        last_committed_at=latest.committed_at.isoformat() if latest else None,
        watermark=cursor.isoformat() if cursor else None,
        watermark_lag_hours=lag,
        error=failure or (None if runs else "no committed run in the lake: ingest it (`lakeml ingest`)"),
    )


def _utc(value: datetime) -> datetime:
    """Source cursors are TIMESTAMP_NTZ in UTC: a naive time is read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
