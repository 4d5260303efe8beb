"""The quality report as CloudWatch metrics (EMF, printed to the Lambda's log), named by the catalog.

Separate from `check` because only the Lambda publishes: locally the same numbers are in the report and
`lakeml run` must not print EMF blobs between its progress lines.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from lakeml.core import metrics as catalog
from lakeml.monitor.report import QualityReport


def publish(report: QualityReport) -> None:
    """One EMF blob (dimension `service`) with the report's measures; flushed at once."""
    blob = EphemeralMetrics(namespace=catalog.QUALITY_NAMESPACE, service=catalog.QUALITY_SERVICE)
    m = report.measures()
    values: list[tuple[catalog.Metric, float | None]] = [
        (catalog.QUALITY_TABLES_FAILED, m["tables_failed"]),
        (catalog.QUARANTINE_RATE, m["quarantine_rate"]),
        (catalog.DBT_FAILURES, m["dbt_failures"]),
        (catalog.DBT_WARNINGS, m["dbt_warnings"]),
        (catalog.CHECKS_BREACHED, len(report.breaches)),
    ]
    lag = m["max_watermark_lag_hours"]
    if lag is not None:
        values.append((catalog.MAX_WATERMARK_LAG, lag * 3600))
    for metric, value in values:
        blob.add_metric(metric.name, MetricUnit(metric.unit), float(value or 0))
    blob.add_metadata("execution_id", report.execution_id)
    blob.flush_metrics()
