"""Lambda entry point of the data-quality monitor (`lakeml.handlers.quality.handler`), a state of the
daily Step Functions flow between dbt and training.

Event: `{"execution_id": "...", "thresholds": {...optional overrides}, "ingest": [...optional]}` —
`ingest` is the ingestion Map's output, so a table that failed this run counts even though its earlier
runs are in the lake. Thin on purpose: `lakeml.monitor.run_check` does the work the local flow's
`quality` stage also does; this adds the EMF metrics and the log line. Returns the report document (with
`summary`); past a threshold it raises `QualityThresholdExceeded`, the error name the state machine's
Catch routes to the notify state.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from lakeml.core import metrics as catalog
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings
from lakeml.monitor import run_check
from lakeml.monitor.emf import publish
from lakeml.wiring import adapters

logger = Logger(service=catalog.QUALITY_SERVICE)


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if not isinstance(event, dict) or not str(event.get("execution_id") or "").strip():
        raise UsageError('quality event must be {"execution_id": "...", "thresholds": {...}} (got no id)')
    overrides = event.get("thresholds") or {}
    if not isinstance(overrides, dict):
        raise UsageError("quality event: thresholds must be an object of threshold -> value")
    settings = load_settings()
    report = run_check(
        settings,
        adapters(settings),
        str(event["execution_id"]),
        overrides=overrides,
        ingest=event.get("ingest"),
    )
    publish(report)
    document = report.document()
    log = logger.info if report.passed else logger.error
    log(document["summary"], extra={"breaches": document["breaches"], "report": report.report_uri})
    report.raise_if_breached()
    return document
