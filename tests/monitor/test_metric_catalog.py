"""One catalog of metric names, read by the code that emits and by Terraform that graphs and alarms.

The committed `infra/modules/monitoring/metrics.json` must be what `lakeml metrics catalog` renders now;
every EMF metric the ingestion and quality code print must be in the catalog with its exact dimension
set (an alarm matches one dimension set, not a subset); and the names the SageMaker deployer's
blue/green rollback refers to must be alarms of the catalog.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.metrics import publish as publish_ingestion
from ingestion.report import IngestReport, RunSummary
from lakeml.core import metrics as catalog
from lakeml.monitor.emf import publish as publish_quality
from lakeml.monitor.report import DbtQuality, QualityReport, TableQuality, Thresholds
from ml_pipelines.serving.deploy.port import PRODUCTION_ENDPOINT
from ml_pipelines.serving.deploy.sagemaker import SageMakerDeployConfig
from tests.conftest import REPO

COMMITTED = REPO / "infra" / "modules" / "monitoring" / "metrics.json"


def emf_blobs(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and '"_aws"' in line]


def emitted(blobs: list[dict]) -> set[tuple[str, str, frozenset[str]]]:
    found = set()
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], frozenset(dimensions)))
    return found


def test_the_committed_metrics_json_is_the_catalog_rendered_now(lakeml, tmp_path: Path) -> None:
    result = lakeml("metrics", "catalog", "--output", str(tmp_path / "metrics.json"))
    assert result.code == 0, result
    assert COMMITTED.read_text() == (tmp_path / "metrics.json").read_text(), (
        "infra/modules/monitoring/metrics.json is stale: run "
        "`lakeml metrics catalog --output infra/modules/monitoring/metrics.json`"
    )


def test_every_alarm_the_issue_names_is_in_the_catalog() -> None:
    alarmed = {(m.namespace, m.name) for m in catalog.CATALOG if m.alarm}
    assert {
        ("lakeml/ingestion", "TablesFailed"),
        ("lakeml/quality", "QuarantineRate"),
        ("lakeml/quality", "MaxWatermarkLagSeconds"),
        ("lakeml/quality", "DbtFailures"),
        ("AWS/Sagemaker/ModelBuildingPipeline", "ExecutionFailed"),
        ("AWS/SageMaker", "Invocation5XXErrors"),
        ("AWS/SageMaker", "ModelLatency"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    } <= alarmed
    names = [m.alarm.name for m in catalog.CATALOG if m.alarm]
    assert len(names) == len(set(names))


def test_the_blue_green_rollback_alarms_are_catalog_alarms_on_the_production_endpoint() -> None:
    alarms = {m.alarm.name: m for m in catalog.CATALOG if m.alarm}
    for name in SageMakerDeployConfig(execution_role_arn=None).rollback_alarms:
        assert name in alarms, name
        assert alarms[name].dimensions["EndpointName"] == PRODUCTION_ENDPOINT


def test_ingestion_emits_only_catalog_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools.metrics import Metrics

    from ingestion.metrics import count_tables

    report = IngestReport(
        runs=[
            RunSummary(
                table="ORDERS",
                run_id="r1",
                mode="incremental",
                status="landed",
                extracted=3,
                landed=2,
                quarantined=1,
                watermark_to="2026-11-27T01:00:00",
            ),
            RunSummary(table="CUSTOMERS", run_id=None, mode="incremental", status="failed", error="x"),
        ]
    )
    publish_ingestion(report, now=datetime(2026, 11, 27, 3, tzinfo=UTC))
    function_blob = Metrics(namespace=catalog.INGESTION_NAMESPACE, service=catalog.INGESTION_SERVICE)
    count_tables(function_blob, report)
    function_blob.flush_metrics()

    found = emitted(emf_blobs(capsys.readouterr().out))
    assert len(found) == 9
    for namespace, name, dimensions in found:
        assert catalog.find(namespace, name, dimensions), (namespace, name, sorted(dimensions))


def test_the_quality_monitor_emits_only_catalog_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    report = QualityReport(
        execution_id="e",
        checked_at=datetime(2026, 11, 27, tzinfo=UTC),
        lake="file:///lake",
        thresholds=Thresholds(
            max_failed_tables=0, max_quarantine_rate=0.05, max_dbt_failures=0, window_hours=24
        ),
        tables=[
            TableQuality(
                table="ORDERS",
                status="ok",
                visible_runs=1,
                runs_in_window=1,
                extracted=10,
                quarantined=1,
                quarantine_rate=0.1,
                last_committed_at=None,
                watermark=None,
                watermark_lag_hours=3.0,
            )
        ],
        dbt=DbtQuality(status="ok"),
        breaches=[],
    )
    publish_quality(report)

    [blob] = emf_blobs(capsys.readouterr().out)
    found = emitted([blob])
    assert {name for _, name, _ in found} == {
        "TablesFailed",
        "QuarantineRate",
        "MaxWatermarkLagSeconds",
        "DbtFailures",
        "DbtWarnings",
        "ChecksBreached",
    }
    for namespace, name, dimensions in found:
        assert catalog.find(namespace, name, dimensions), (namespace, name)
    assert blob["QuarantineRate"] == [pytest.approx(0.1)] and blob["MaxWatermarkLagSeconds"] == [10800]
    assert blob["execution_id"] == "e"
