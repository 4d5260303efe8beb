"""The handler's pure parts: which events it accepts, and the metrics it derives from a report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingestion.config import load_sources
from ingestion.events import IngestRequest, InvalidEvent, parse_event
from ingestion.metrics import publish, watermark_lag_seconds
from ingestion.report import IngestReport, RunSummary

CONFIGURED = list(load_sources().tables)  # the packaged sources file
NOW = datetime(2026, 11, 27, 6, 0, 0, tzinfo=UTC)
SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-27T03:00:00Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:events:eu-west-1:123456789012:rule/lakeml-ingest-daily"],
    "detail": {},
}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({}, IngestRequest()),
        ({"tables": ["ORDERS"]}, IngestRequest(tables=["ORDERS"])),
        ({"tables": ["orders", "ORDERS", "customers"]}, IngestRequest(tables=["ORDERS", "CUSTOMERS"])),
        ({"full_refresh": True}, IngestRequest(full_refresh=True)),
        (SCHEDULED, IngestRequest()),
        (
            {**SCHEDULED, "detail-type": "lakeml.ingest", "detail": {"tables": ["PRODUCTS"]}},
            IngestRequest(tables=["PRODUCTS"]),
        ),
    ],
    ids=["all", "one", "case-and-repeats", "full-refresh", "scheduled", "eventbridge-detail"],
)
def test_accepted_events(event: dict, expected: IngestRequest) -> None:
    assert parse_event(event, CONFIGURED) == expected


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], r"\(event\): Input should be a valid dictionary"),
        ({"tables": []}, r"tables: List should have at least 1 item"),
        ({"full_refresh": 1}, r"full_refresh: Input should be a valid boolean"),
        ({**SCHEDULED, "time": "yesterday"}, r"time: Input should be a valid datetime"),
        ({"tables": ["ORDERS", "BASKETS"]}, r"tables: .*unknown table\(s\) BASKETS; configured: CUSTOMERS"),
    ],
    ids=["not-an-object", "empty-tables", "int-not-bool", "bad-envelope", "unknown-table"],
)
def test_rejected_events_name_the_field_and_show_the_shape(event: object, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message) as error:
        parse_event(event, CONFIGURED)
    assert '{"tables": ["ORDERS"], "full_refresh": false}' in str(error.value)


def summary(**fields: object) -> RunSummary:
    base: dict[str, object] = {"table": "ORDERS", "run_id": "r-1", "mode": "incremental", "status": "landed"}
    return RunSummary.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("watermark_to", "lag"),
    [
        ("2026-11-27T05:00:00", 3600.0),  # TIMESTAMP_NTZ: read as UTC
        ("2026-11-27T05:00:00+00:00", 3600.0),
        ("2026-11-27T06:30:00+01:00", 1800.0),
        ("2026-11-27T07:00:00", 0.0),  # a cursor ahead of the clock is no lag, not a negative one
        (None, None),
    ],
)
def test_watermark_lag_is_now_minus_watermark(watermark_to: str | None, lag: float | None) -> None:
    assert watermark_lag_seconds(summary(watermark_to=watermark_to), NOW) == lag


def test_publish_prints_one_emf_blob_per_table_with_the_table_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = IngestReport(
        runs=[
            summary(
                extracted=10,
                landed=8,
                quarantined=2,
                bytes=2048,
                seconds=1.5,
                watermark_to="2026-11-27T05:00:00",
            ),
            summary(table="CUSTOMERS", run_id=None, status="failed", error="boom"),
        ]
    )
    publish(report, now=NOW)
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    orders, customers = blobs
    assert orders["table"] == "ORDERS" and customers["table"] == "CUSTOMERS"
    assert orders["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "lakeml/ingestion"
    values = {
        name: orders[name] for name in ("RowsExtracted", "RowsLanded", "RowsQuarantined", "BytesLanded")
    }
    assert values == {
        "RowsExtracted": [10.0],
        "RowsLanded": [8.0],
        "RowsQuarantined": [2.0],
        "BytesLanded": [2048.0],
    }
    assert orders["WatermarkLagSeconds"] == [3600.0] and orders["RunFailed"] == [0.0]
    assert customers["RunFailed"] == [1.0] and "WatermarkLagSeconds" not in customers


def test_in_lambda_the_engines_stdlib_logs_come_out_as_powertools_json() -> None:
    """A fresh interpreter with the Lambda runtime's variable: `ingestion.*` / `lakeml.*` records are
    written by the powertools handler (JSON with service and logger name), not dropped or plain."""
    import os
    import subprocess
    import sys

    code = (
        "import logging, lakeml.handlers.ingest\n"
        "logging.getLogger('ingestion.source.kept').info('opening a source connection')\n"
        "logging.getLogger('lakeml.lake').warning('lake warning')\n"
    )
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "lakeml-ingest", "POWERTOOLS_TRACE_DISABLED": "1"}
    env.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [(entry["name"], entry["level"], entry["service"]) for entry in lines] == [
        ("ingestion.source.kept", "INFO", "lakeml-ingestion"),
        ("lakeml.lake", "WARNING", "lakeml-ingestion"),
    ]
