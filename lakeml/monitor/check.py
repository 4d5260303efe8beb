"""The data-quality check between dbt and training: measure, compare with thresholds, keep the report.

`check()` is the one function both runtimes call: the quality Lambda (`lakeml.handlers.quality`) inside
the Step Functions flow, and the local flow's `quality` stage. It reads the lake only (through the port
it is given), so the same code answers locally and on S3; the report is written to
`runs/quality/<execution_id>.json` before anything is raised, so a tripped threshold always leaves its
evidence behind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from ingestion.config import load_sources, sources_path
from lakeml.core.errors import UsageError
from lakeml.core.lake import LakeStorage
from lakeml.core.settings import Settings
from lakeml.monitor.inputs import dbt_quality, ingest_failures, table_quality
from lakeml.monitor.report import Breach, QualityReport, Thresholds

REPORTS = "runs/quality"
EXECUTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class MonitorPorts(Protocol):
    """The one port the monitor needs (the wiring's adapters object has it)."""

    @property
    def lake(self) -> LakeStorage: ...


def thresholds(settings: Settings, overrides: Mapping[str, Any] | None = None) -> Thresholds:
    """The `quality` settings, with an event's per-run overrides on top; bad overrides are a UsageError."""
    values = {**settings.quality.model_dump(), **dict(overrides or {})}
    try:
        return Thresholds.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"thresholds.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid quality thresholds: {problems}") from None


def report_id(execution_id: str) -> str:
    """The execution's name as a file name: a Step Functions execution ARN becomes its last part."""
    name = execution_id.rsplit(":", 1)[-1].strip()
    if not EXECUTION_ID.match(name):
        raise UsageError(
            f"execution_id {execution_id!r} cannot name a report: use letters, digits, '.', '_' or '-' "
            "(≤ 128), or a Step Functions execution ARN"
        )
    return name


def run_check(
    settings: Settings,
    ports: MonitorPorts,
    execution_id: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    ingest: Any = None,
    now: datetime | None = None,
) -> QualityReport:
    """Measure, compare, write the report to the lake; never raises on a breach (see `check`)."""
    name = report_id(execution_id)
    limits = thresholds(settings, overrides)
    now = now or datetime.now(UTC)
    lake = ports.lake
    failures = ingest_failures(ingest)
    tables = [
        table_quality(lake, t.name, now, limits.window_hours, failures.get(t.name.upper()))
        for t in load_sources(sources_path(settings)).tables.values()
    ]
    report = QualityReport(
        execution_id=name,
        checked_at=now,
        lake=lake.uri,
        thresholds=limits,
        tables=tables,
        dbt=dbt_quality(lake),
        breaches=[],
    )
    report.breaches.extend(breaches(report))
    report.report_uri = lake.uri_of(REPORTS, f"{name}.json")
    write(lake, f"{REPORTS}/{name}.json", report.document())
    return report


def check(
    settings: Settings,
    ports: MonitorPorts,
    execution_id: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    ingest: Any = None,
    now: datetime | None = None,
) -> QualityReport:
    """`run_check`, then raise `QualityThresholdExceeded` (exit 1) when a threshold tripped."""
    report = run_check(settings, ports, execution_id, overrides=overrides, ingest=ingest, now=now)
    report.raise_if_breached()
    return report


def breaches(report: QualityReport) -> list[Breach]:
    """Every threshold the measures exceed, each with a message that says where to look."""
    limits, m, found = report.thresholds, report.measures(), []
    bad = [f"{t.table} ({t.status}: {t.error})" for t in report.tables if t.status != "ok"]
    if (m["tables_failed"] or 0) > limits.max_failed_tables:
        found.append(
            Breach(
                check="failed_tables",
                value=m["tables_failed"] or 0,
                limit=limits.max_failed_tables,
                message=f"{len(bad)} tables failed or never landed (allowed {limits.max_failed_tables}): "
                + ", ".join(bad),
            )
        )
    rate = m["quarantine_rate"] or 0.0
    if rate > limits.max_quarantine_rate:
        worst = sorted(
            (t for t in report.tables if t.quarantine_rate), key=lambda t: -(t.quarantine_rate or 0)
        )
        found.append(
            Breach(
                check="quarantine_rate",
                value=rate,
                limit=limits.max_quarantine_rate,
                message=f"{rate:.2%} of extracted rows were quarantined in the last {limits.window_hours:g} h "
                f"(allowed {limits.max_quarantine_rate:.2%}); worst: "
                + ", ".join(f"{t.table} {t.quarantine_rate:.2%}" for t in worst[:3])
                + "; inspect quarantine/ in the lake",
            )
        )
    lag, max_lag = m["max_watermark_lag_hours"], limits.max_watermark_lag_hours
    if lag is not None and max_lag is not None and lag > max_lag:
        stale = [t.table for t in report.tables if (t.watermark_lag_hours or 0) > max_lag]
        found.append(
            Breach(
                check="watermark_lag",
                value=lag,
                limit=max_lag,
                message=f"watermarks of {', '.join(stale)} trail by up to {lag:.1f} h (allowed {max_lag:g} h); "
                "is the source still being written, and did ingestion run?",
            )
        )
    if report.dbt.status == "missing" and limits.require_dbt_run:
        found.append(Breach(check="dbt_run", value=1, limit=0, message=report.dbt.message))
    elif report.dbt.failures > limits.max_dbt_failures:
        nodes = ", ".join(f["node"] for f in report.dbt.failed[:5])
        found.append(
            Breach(
                check="dbt_failures",
                value=report.dbt.failures,
                limit=limits.max_dbt_failures,
                message=f"dbt {report.dbt.invocation_id}: {report.dbt.failures} failed nodes ({nodes}); "
                f"run results: {report.dbt.run_results}",
            )
        )
    return found


def write(lake: LakeStorage, relative: str, document: Mapping[str, Any]) -> None:
    """Write a JSON document whole: a hidden temporary name, then a move (readers never see a part)."""
    folder, _, name = relative.rpartition("/")
    lake.fs.create_dir(lake.path(folder), recursive=True)
    tmp = lake.path(folder, f".tmp-{name}")
    with lake.fs.open_output_stream(tmp) as out:
        out.write((json.dumps(document, indent=1, sort_keys=True) + "\n").encode())
    lake.fs.move(tmp, lake.path(relative))
