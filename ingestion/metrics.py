"""CloudWatch metrics of an ingestion report (EMF), and the short form of it the Lambda logs.

Library code beside the report model, so the Lambda entry point (`lakeml.handlers.ingest`) only calls
it; `tests/ingestion/test_aws_handler_events.py` checks the blobs without a Lambda runtime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, Metrics, MetricUnit

from ingestion.report import IngestReport, RunSummary

SERVICE = "lakeml-ingestion"
NAMESPACE = "lakeml/ingestion"


def count_tables(metrics: Metrics, report: IngestReport) -> None:
    """Run totals on the function's own blob (flushed by `log_metrics` when the handler returns)."""
    failed = sum(run.status == "failed" for run in report.runs)
    metrics.add_metric("TablesIngested", MetricUnit.Count, len(report.runs) - failed)
    metrics.add_metric("TablesFailed", MetricUnit.Count, failed)


def publish(report: IngestReport, now: datetime | None = None) -> None:
    """EMF metrics, one blob per table (dimension `table`), printed at once: a blob's dimensions are
    shared by all its metrics, so per-table values cannot ride on the function's blob."""
    now = now or datetime.now(UTC)
    for run in report.runs:
        per_table = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        per_table.add_dimension("table", run.table)
        per_table.add_metric("RowsExtracted", MetricUnit.Count, run.extracted)
        per_table.add_metric("RowsLanded", MetricUnit.Count, run.landed)
        per_table.add_metric("RowsQuarantined", MetricUnit.Count, run.quarantined)
        per_table.add_metric("BytesLanded", MetricUnit.Bytes, run.bytes)
        per_table.add_metric("DurationSeconds", MetricUnit.Seconds, run.seconds)
        lag = watermark_lag_seconds(run, now)
        if lag is not None:
            per_table.add_metric("WatermarkLagSeconds", MetricUnit.Seconds, lag)
        per_table.add_metric("RunFailed", MetricUnit.Count, int(run.status == "failed"))
        per_table.add_metadata("run_id", run.run_id or "")
        per_table.flush_metrics()


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
