"""The quality Lambda with the flow's event: locally on the test's LAKEML_HOME lake, and on AWS with the
lake in a moto S3 bucket. It returns the report (with `summary`), prints its EMF metrics, leaves the
report in the lake, and raises `QualityThresholdExceeded` — the error name Step Functions catches."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lakeml.core.settings import load_settings
from lakeml.handlers.quality import handler
from lakeml.monitor import QualityThresholdExceeded
from lakeml.wiring import adapters
from tests.contract.aws_emulator import create_bucket, moto_server
from tests.handlers.conftest import FakeLambdaContext, event
from tests.monitor.lakefix import commit_all, publish_dbt, read_report

NOW = datetime.now(UTC)  # the handler reads the clock; the fixture runs are an hour old whenever it runs


def test_the_flow_event_returns_the_report_and_prints_the_metrics(home, capsys) -> None:
    lake = adapters(load_settings()).lake
    commit_all(lake, NOW, quarantined=8)  # 8 %: past the 5 % default, under the event's 10 %
    publish_dbt(lake, "inv-1", {"model.silver.orders": "success"})
    request = event("quality_input")

    document = handler(request, FakeLambdaContext())

    assert document["passed"] and document["summary"].startswith("quality ok")
    assert document["thresholds"]["max_quarantine_rate"] == 0.1
    assert read_report(lake, request["execution_id"])["summary"] == document["summary"]
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [metrics] = [b for b in blobs if "QuarantineRate" in b]
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "lakeml/quality"
    assert metrics["ChecksBreached"] == [0.0]


def test_a_tripped_threshold_raises_the_error_step_functions_catches(home) -> None:
    lake = adapters(load_settings()).lake
    commit_all(lake, NOW)
    publish_dbt(lake, "inv-2", {"model.silver.orders": "error"}, success=False)
    request = event("quality_input")

    with pytest.raises(QualityThresholdExceeded) as raised:
        handler(request, FakeLambdaContext())

    assert type(raised.value).__name__ == "QualityThresholdExceeded"  # Lambda's errorType
    assert "model.silver.orders" in str(raised.value)
    assert not read_report(lake, request["execution_id"])["passed"]


def test_no_dbt_run_fails_and_says_so(home) -> None:
    commit_all(adapters(load_settings()).lake, NOW)
    with pytest.raises(QualityThresholdExceeded, match="no dbt run: .*runs/dbt/latest.json does not exist"):
        handler({"execution_id": "no-dbt"}, FakeLambdaContext())


def test_an_event_without_an_execution_id_is_refused(home) -> None:
    from lakeml.core.errors import UsageError

    with pytest.raises(UsageError, match="execution_id"):
        handler({"thresholds": {}}, FakeLambdaContext())


def test_on_aws_the_lake_is_the_bucket(home, monkeypatch) -> None:
    with moto_server() as endpoint:
        create_bucket(endpoint, "lakeml-quality-test")
        monkeypatch.setenv("LAKEML_ENV", "aws")
        monkeypatch.setenv("LAKEML_AWS__ENDPOINT_URL", endpoint)
        monkeypatch.setenv("LAKEML_AWS__LAKE_BUCKET", "lakeml-quality-test")
        lake = adapters(load_settings()).lake
        commit_all(lake, NOW)
        publish_dbt(lake, "inv-s3", {"model.silver.orders": "success"})

        document = handler(event("quality_input"), FakeLambdaContext())

        assert document["passed"] and document["lake"] == "s3://lakeml-quality-test"
        assert document["report_uri"].startswith("s3://lakeml-quality-test/runs/quality/")
        assert document["dbt"]["run_results"] == "s3://lakeml-quality-test/runs/dbt/inv-s3/run_results.json"
