"""The one catalog of CloudWatch metrics: every metric lakeml emits, and the AWS ones its alarms watch.

Why one catalog: the code that emits a metric (ingestion's EMF blobs, the quality monitor) and the
Terraform that graphs and alarms on it (`infra/modules/monitoring`) must agree on namespace, name,
unit and dimensions, or a dashboard shows nothing and an alarm never fires. Emitting code takes its
names from here; `lakeml metrics catalog --output infra/modules/monitoring/metrics.json` renders the
catalog for Terraform, and `tests/monitor/test_metric_catalog.py` fails when that file is stale or when
an emitted metric is missing here.

Pure data (kernel): no project imports, no AWS calls. Dimension values that only the estate knows (the
DLQ's queue name, the pipeline's name) are `None`: Terraform fills them in.

`dimensions` is the metric's dimension set as CloudWatch stores it. powertools adds `service` to every
EMF blob, and a CloudWatch alarm matches one exact dimension set, hence `service` is listed and has a
fixed value per component.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["warning", "critical"]
Comparison = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]

INGESTION_NAMESPACE = "lakeml/ingestion"
INGESTION_SERVICE = "lakeml-ingestion"
QUALITY_NAMESPACE = "lakeml/quality"
QUALITY_SERVICE = "lakeml-quality"
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
PIPELINE_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"  # sic: SageMaker Pipelines' own spelling
SQS_NAMESPACE = "AWS/SQS"

# Names the SageMaker deployer's blue/green AutoRollbackConfiguration refers to; the endpoint alarms
# must be created under exactly these names.
ENDPOINT_5XX_ALARM = "lakeml-endpoint-5xx"
ENDPOINT_LATENCY_ALARM = "lakeml-endpoint-latency-p99"
PRODUCTION_ENDPOINT = "lakeml-churn"
PRODUCTION_VARIANT = "AllTraffic"


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch alarm on one metric: `periods` consecutive periods of `period_s` past `threshold`."""

    name: str
    threshold: float
    comparison: Comparison
    severity: Severity
    periods: int = 1
    period_s: int = 300
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "periods": self.periods,
            "period_s": self.period_s,
            "severity": self.severity,
            "description": self.description,
        }


@dataclass(frozen=True)
class Metric:
    """One metric: where it lives, how to aggregate it, who emits it and the alarm on it (if any)."""

    namespace: str
    name: str
    unit: str
    stat: str
    component: str
    description: str
    dimensions: dict[str, str | None] = field(default_factory=dict)
    alarm: Alarm | None = None
    emitted_by: Literal["lakeml", "aws"] = "lakeml"

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "unit": self.unit,
            "stat": self.stat,
            "component": self.component,
            "dimensions": sorted(self.dimensions),
            "dimension_values": dict(sorted(self.dimensions.items())),
            "emitted_by": self.emitted_by,
            "description": self.description,
            "alarm": self.alarm.to_json() if self.alarm else None,
        }


_ING = {"service": INGESTION_SERVICE}
_ING_TABLE = {"service": INGESTION_SERVICE, "table": None}
_QUAL = {"service": QUALITY_SERVICE}
_ENDPOINT = {"EndpointName": PRODUCTION_ENDPOINT, "VariantName": PRODUCTION_VARIANT}


def _ingestion(name: str, unit: str, stat: str, description: str, **kw: Any) -> Metric:
    return Metric(INGESTION_NAMESPACE, name, unit, stat, "ingestion", description, **kw)


def _quality(name: str, unit: str, stat: str, description: str, **kw: Any) -> Metric:
    return Metric(QUALITY_NAMESPACE, name, unit, stat, "quality", description, dict(_QUAL), **kw)


# --- ingestion (lakeml.handlers.ingest, ingestion.metrics) ---------------------------------------------
TABLES_INGESTED = _ingestion(
    "TablesIngested", "Count", "Sum", "tables whose run landed or was up to date", dimensions=dict(_ING)
)
TABLES_FAILED = _ingestion(
    "TablesFailed",
    "Count",
    "Sum",
    "tables whose ingestion run failed after the engine's retries",
    dimensions=dict(_ING),
    alarm=Alarm("lakeml-ingestion-tables-failed", 1, "GreaterThanOrEqualToThreshold", "warning"),
)
INVALID_EVENTS = _ingestion(
    "InvalidEvents", "Count", "Sum", "ingestion Lambda events that did not parse", dimensions=dict(_ING)
)
INVOCATIONS_FAILED = _ingestion(
    "InvocationsFailed",
    "Count",
    "Sum",
    "ingestion invocations that failed before any table ran (settings, secret, connection, lake)",
    dimensions=dict(_ING),
)
ROWS_EXTRACTED = _ingestion(
    "RowsExtracted", "Count", "Sum", "rows read from the source, per table", dimensions=dict(_ING_TABLE)
)
ROWS_LANDED = _ingestion(
    "RowsLanded", "Count", "Sum", "rows landed in bronze, per table", dimensions=dict(_ING_TABLE)
)
ROWS_QUARANTINED = _ingestion(
    "RowsQuarantined", "Count", "Sum", "rows sent to quarantine, per table", dimensions=dict(_ING_TABLE)
)
BYTES_LANDED = _ingestion(
    "BytesLanded", "Bytes", "Sum", "Parquet bytes landed, per table", dimensions=dict(_ING_TABLE)
)
DURATION_SECONDS = _ingestion(
    "DurationSeconds", "Seconds", "Maximum", "run duration, per table", dimensions=dict(_ING_TABLE)
)
WATERMARK_LAG_SECONDS = _ingestion(
    "WatermarkLagSeconds",
    "Seconds",
    "Maximum",
    "how far the committed data trails the run's clock, per table (the quality monitor alarms on the max)",
    dimensions=dict(_ING_TABLE),
)
RUN_FAILED = _ingestion(
    "RunFailed", "Count", "Sum", "1 when the table's run failed, per table", dimensions=dict(_ING_TABLE)
)
COLD_START = _ingestion(
    "ColdStart",
    "Count",
    "Sum",
    "cold starts of the ingestion Lambda (powertools, capture_cold_start_metric)",
    dimensions={"service": INGESTION_SERVICE, "function_name": None},
)

# --- data-quality monitor (lakeml.monitor, lakeml.handlers.quality) ------------------------------------
QUALITY_TABLES_FAILED = _quality(
    "TablesFailed",
    "Count",
    "Maximum",
    "configured tables whose ingestion failed or that have no committed run",
)
QUARANTINE_RATE = _quality(
    "QuarantineRate",
    "None",
    "Maximum",
    "quarantined / extracted rows over the runs committed in the monitor's window (0..1)",
    alarm=Alarm("lakeml-quality-quarantine-rate", 0.05, "GreaterThanThreshold", "warning", period_s=3600),
)
MAX_WATERMARK_LAG = _quality(
    "MaxWatermarkLagSeconds",
    "Seconds",
    "Maximum",
    "the largest watermark lag over the configured tables",
    alarm=Alarm(
        "lakeml-quality-watermark-lag",
        48 * 3600,
        "GreaterThanThreshold",
        "warning",
        period_s=3600,
        description="no fresh source data for two days: check the source and the schedule",
    ),
)
DBT_FAILURES = _quality(
    "DbtFailures",
    "Count",
    "Maximum",
    "dbt models and tests that errored or failed in the latest build",
    alarm=Alarm("lakeml-quality-dbt-failures", 1, "GreaterThanOrEqualToThreshold", "critical", period_s=3600),
)
DBT_WARNINGS = _quality("DbtWarnings", "Count", "Maximum", "dbt tests that warned in the latest build")
CHECKS_BREACHED = _quality(
    "ChecksBreached",
    "Count",
    "Maximum",
    "quality thresholds the latest monitor run found exceeded (the flow fails when > 0)",
    alarm=Alarm("lakeml-quality-breached", 1, "GreaterThanOrEqualToThreshold", "critical", period_s=3600),
)

# --- emitted by AWS, alarmed on by lakeml --------------------------------------------------------------
PIPELINE_EXECUTION_FAILED = Metric(
    PIPELINE_NAMESPACE,
    "ExecutionFailed",
    "Count",
    "Sum",
    "pipeline",
    "failed executions of a SageMaker pipeline",
    {"PipelineName": None},
    Alarm("lakeml-pipeline-failed", 1, "GreaterThanOrEqualToThreshold", "critical", period_s=3600),
    "aws",
)
ENDPOINT_5XX = Metric(
    SAGEMAKER_NAMESPACE,
    "Invocation5XXErrors",
    "Count",
    "Sum",
    "endpoint",
    "invocations of the production endpoint the model answered with a 5xx",
    dict(_ENDPOINT),
    Alarm(
        ENDPOINT_5XX_ALARM,
        1,
        "GreaterThanOrEqualToThreshold",
        "critical",
        periods=2,
        period_s=60,
        description="blue/green deployments roll back on this alarm",
    ),
    "aws",
)
ENDPOINT_LATENCY = Metric(
    SAGEMAKER_NAMESPACE,
    "ModelLatency",
    "Microseconds",
    "p99",
    "endpoint",
    "time the model container takes to answer, p99",
    dict(_ENDPOINT),
    Alarm(
        ENDPOINT_LATENCY_ALARM,
        500_000,
        "GreaterThanThreshold",
        "critical",
        periods=3,
        period_s=60,
        description="p99 above 500 ms; blue/green deployments roll back on this alarm",
    ),
    "aws",
)
DLQ_DEPTH = Metric(
    SQS_NAMESPACE,
    "ApproximateNumberOfMessagesVisible",
    "Count",
    "Maximum",
    "dlq",
    "events of failed asynchronous Lambda invocations waiting in the dead-letter queue",
    {"QueueName": None},
    Alarm("lakeml-dlq-depth", 1, "GreaterThanOrEqualToThreshold", "warning"),
    "aws",
)

CATALOG: tuple[Metric, ...] = (
    TABLES_INGESTED,
    TABLES_FAILED,
    INVALID_EVENTS,
    INVOCATIONS_FAILED,
    ROWS_EXTRACTED,
    ROWS_LANDED,
    ROWS_QUARANTINED,
    BYTES_LANDED,
    DURATION_SECONDS,
    WATERMARK_LAG_SECONDS,
    RUN_FAILED,
    COLD_START,
    QUALITY_TABLES_FAILED,
    QUARANTINE_RATE,
    MAX_WATERMARK_LAG,
    DBT_FAILURES,
    DBT_WARNINGS,
    CHECKS_BREACHED,
    PIPELINE_EXECUTION_FAILED,
    ENDPOINT_5XX,
    ENDPOINT_LATENCY,
    DLQ_DEPTH,
)


def document() -> dict[str, Any]:
    """The catalog as Terraform reads it (`infra/modules/monitoring/metrics.json`)."""
    return {"metrics": [metric.to_json() for metric in CATALOG]}


def find(namespace: str, name: str, dimensions: frozenset[str] | set[str]) -> Metric | None:
    """The catalog entry of an emitted metric (namespace, name and dimension set), or None."""
    for metric in CATALOG:
        if (metric.namespace, metric.name, frozenset(metric.dimensions)) == (
            namespace,
            name,
            frozenset(dimensions),
        ):
            return metric
    return None
