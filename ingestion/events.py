"""AWS Lambda entry point of ingestion: validate the event, call `ingest`, publish metrics, return the report.

The handler is deliberately thin: the same `ingest(settings, tables=…)` runs behind `lakeml ingest`, so
what is tested locally is what runs here. Everything AWS-specific lives in the adapters the settings
select (`LAKEML_ENV=aws`: S3 lake, DynamoDB watermarks, Secrets Manager credentials).

Events (direct invoke, Step Functions, EventBridge):
    {}                                         every configured table
    {"tables": ["ORDERS"], "full_refresh": false}
    an EventBridge event                       its `detail` is the request; a scheduled rule's detail is
                                               `{}`, so a "Scheduled Event" ingests every table
A bad event raises `InvalidEvent` naming the field. A persistent failure (after the engine's retries of
transient errors) raises too, so an asynchronous invocation ends up in the function's on-failure
destination / DLQ with the original event and the error, and can simply be re-driven: runs are idempotent.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from ingestion.run import IngestFailed, IngestReport, RunSummary, ingest
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings

SERVICE = "lakeml-ingestion"
NAMESPACE = "lakeml/ingestion"
EXAMPLE_EVENT = '{"tables": ["ORDERS"], "full_refresh": false}'

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # in Lambda only: tests keep stdlib logging untouched
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    # The engine logs through stdlib loggers (`ingestion.*`, `lakeml.*`); give their parents the same JSON
    # handler and Lambda context keys. The parents are created first: powertools only configures loggers
    # that exist, and the modules that log are imported lazily.
    for name in ("ingestion", "lakeml"):
        logging.getLogger(name)
    copy_config_to_registered_loggers(source_logger=logger, include={"ingestion", "lakeml"})


class InvalidEvent(UsageError):
    """The invocation event is not an ingestion request; the message names each bad field."""


class IngestRequest(BaseModel):
    """What one invocation ingests. No `tables` (or `{}`) means every table in the sources file."""

    model_config = ConfigDict(extra="forbid")

    tables: list[str] | None = Field(None, min_length=1)
    full_refresh: StrictBool = False

    @field_validator("tables")
    @classmethod
    def _configured(cls, tables: list[str] | None) -> list[str] | None:
        if tables is None:
            return None
        from ingestion.config import load_sources

        configured = load_sources().tables
        names = [name.strip().upper() for name in tables]
        unknown = [name for name in names if name not in configured]
        if unknown:
            raise ValueError(f"unknown table(s) {', '.join(unknown)}; configured: {', '.join(configured)}")
        return list(dict.fromkeys(names))  # keep order, drop repeats


def parse_event(event: Any) -> IngestRequest:
    """The request carried by a direct event or an EventBridge envelope; InvalidEvent names the field."""
    prefix = ""
    try:
        if isinstance(event, dict) and "detail-type" in event:
            EventBridgeModel.model_validate(event)  # a well-formed envelope (version, id, source, time…)
            prefix = "detail."
            return IngestRequest.model_validate(event["detail"])
        return IngestRequest.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{prefix}{'.'.join(str(p) for p in error['loc']) or '(event)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidEvent(
            f"invalid ingestion event: {problems}. Expected {{}} (all tables), {EXAMPLE_EVENT}, or an "
            "EventBridge scheduled event"
        ) from None


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (`ingestion.handler.handler`). Returns the report as JSON-able data."""
    try:
        request = parse_event(event)
    except InvalidEvent:
        metrics.add_metric("InvalidEvents", MetricUnit.Count, 1)
        raise
    tables = request.tables or ["*"]
    logger.append_keys(tables=tables, full_refresh=request.full_refresh)
    tracer.put_annotation("tables", ",".join(tables))
    logger.info("ingestion started")
    try:
        report = ingest(load_settings(), tables=request.tables, full_refresh=request.full_refresh)
    except IngestFailed as exc:
        _count_tables(exc.report)
        publish(exc.report)
        logger.error("ingestion failed", extra={"runs": _brief(exc.report)})
        raise
    except Exception as exc:  # before any table ran: settings, secret, connection, lake
        metrics.add_metric("InvocationsFailed", MetricUnit.Count, 1)
        logger.error("ingestion could not start", extra={"error": f"{type(exc).__name__}: {exc}"})
        raise
    _count_tables(report)
    publish(report)
    logger.info("ingestion finished", extra={"runs": _brief(report)})
    return report.model_dump(mode="json")


def _count_tables(report: IngestReport) -> None:
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


def _brief(report: IngestReport) -> list[dict[str, Any]]:
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
