"""CloudWatch metrics of an ingestion report (EMF), and the short form of it the Lambda logs.

Library code beside the report model, so the Lambda entry point (`lakeml.handlers.ingest`) only calls
it; `tests/ingestion/test_aws_handler_events.py` checks the blobs without a Lambda runtime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, Metrics, MetricUnit

from ingestion.report import IngestReport, RunSummary
from lakeml.core import metrics as catalog

# Names, units and dimensions come from the metric catalog, which Terraform's dashboard and alarms read.
SERVICE = catalog.INGESTION_SERVICE
NAMESPACE = catalog.INGESTION_NAMESPACE


def count_tables(metrics: Metrics, report: IngestReport) -> None:
    """Run totals on the function's own blob (flushed by `log_metrics` when the handler returns)."""
    failed = sum(run.status == "failed" for run in report.runs)
    add(metrics, catalog.TABLES_INGESTED, len(report.runs) - failed)
    add(metrics, catalog.TABLES_FAILED, failed)


def publish(report: IngestReport, now: datetime | None = None) -> None:
    """EMF metrics, one blob per table (dimension `table`), printed at once: a blob's dimensions are
    shared by all its metrics, so per-table values cannot ride on the function's blob."""
    now = now or datetime.now(UTC)
    for run in report.runs:
        per_table = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        per_table.add_dimension("table", run.table)
        add(per_table, catalog.ROWS_EXTRACTED, run.extracted)
        add(per_table, catalog.ROWS_LANDED, run.landed)
        add(per_table, catalog.ROWS_QUARANTINED, run.quarantined)
        add(per_table, catalog.BYTES_LANDED, run.bytes)
        add(per_table, catalog.DURATION_SECONDS, run.seconds)
        lag = watermark_lag_seconds(run, now)
        if lag is not None:
            add(per_table, catalog.WATERMARK_LAG_SECONDS, lag)
        add(per_table, catalog.RUN_FAILED, int(run.status == "failed"))
        per_table.add_metadata("run_id", run.run_id or "")
        per_table.flush_metrics()


def add(metrics: Metrics | EphemeralMetrics, metric: catalog.Metric, value: float) -> None:
    """Add one value of a catalog metric (its name and unit, so code and dashboards cannot drift)."""
    metrics.add_metric(metric.name, MetricUnit(metric.unit), value)


def watermark_lag_seconds(run: RunSummary, now: datetime) -> float | None:
    """How far the committed data trails now. Source cursors are TIMESTAMP_NTZ in UTC, so a naive
    watermark is read as UTC. None when the table has never been committed."""
    if not run.watermark_to:
        return None
    mark = datetime.fromisoformat(run.watermark_to)
    if mark.tzinfo is None:
        mark = mark.replace(tzinfo=UTC)
    return round(max((now - mark).total_seconds(), 0.0), 3)


def brief(report: IngestReport) -> list[dict[str, Any]]:
    """The report's runs reduced to what a log line needs."""
    return [
        {
            "table": run.table,
            "status": run.status,
            "run_id": run.run_id,
            "extracted": run.extracted,
            "landed": run.landed,
            "quarantined": run.quarantined,
            "error": run.error,
        }
        for run in report.runs
    ]
