"""AWS Lambda entry point of ingestion (`lakeml.handlers.ingest.handler`): parse the event, wire the
adapters, call `ingest`, publish metrics, return the report.

Deliberately thin: the same `ingestion.run.ingest(settings, ports, …)` runs behind `lakeml ingest`, so
what is tested locally is what runs here; `adapters(settings)` (LAKEML_ENV=aws) gives the S3 lake,
DynamoDB watermarks and the Snowflake connection with Secrets Manager credentials. A persistent failure
(after the engine's retries of transient errors) raises, so an asynchronous invocation ends up in the
function's on-failure destination / DLQ with the original event and the error, and can simply be
re-driven: runs are idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from ingestion.config import load_sources, sources_path
from ingestion.events import InvalidEvent, parse_event
from ingestion.metrics import NAMESPACE, SERVICE, add, brief, count_tables, publish
from ingestion.report import IngestFailed
from ingestion.run import ingest
from lakeml.core import environ
from lakeml.core import metrics as catalog
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)

if environ.platform("AWS_LAMBDA_FUNCTION_NAME"):  # in Lambda only: tests keep stdlib logging untouched
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    # The engine logs through stdlib loggers (`ingestion.*`, `lakeml.*`); give their parents the same JSON
    # handler and Lambda context keys. The parents are created first: powertools only configures loggers
    # that exist, and the modules that log are imported lazily.
    for name in ("ingestion", "lakeml"):
        logging.getLogger(name)
    copy_config_to_registered_loggers(source_logger=logger, include={"ingestion", "lakeml"})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point. Returns the report as JSON-able data."""
    try:
        settings = load_settings()
        configured = load_sources(sources_path(settings)).tables
    except Exception as exc:
        _could_not_start(exc)
        raise
    try:
        request = parse_event(event, configured)
    except InvalidEvent:
        add(metrics, catalog.INVALID_EVENTS, 1)
        raise
    tables = request.tables or ["*"]
    logger.append_keys(tables=tables, full_refresh=request.full_refresh)
    tracer.put_annotation("tables", ",".join(tables))
    logger.info("ingestion started")
    try:
        report = ingest(
            settings, adapters(settings), tables=request.tables, full_refresh=request.full_refresh
        )
    except IngestFailed as exc:
        count_tables(metrics, exc.report)
        publish(exc.report)
        logger.error("ingestion failed", extra={"runs": brief(exc.report)})
        raise
    except Exception as exc:  # before any table ran: secret, connection, lake
        _could_not_start(exc)
        raise
    count_tables(metrics, report)
    publish(report)
    logger.info("ingestion finished", extra={"runs": brief(report)})
    return report.model_dump(mode="json")


def _could_not_start(exc: Exception) -> None:
    add(metrics, catalog.INVOCATIONS_FAILED, 1)
    logger.error("ingestion could not start", extra={"error": f"{type(exc).__name__}: {exc}"})
