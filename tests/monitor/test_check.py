"""The quality check as the local flow calls it: `lakeml.monitor.check(settings, ports, execution_id)`,
on a local lake in the test's own LAKEML_HOME. The clock is passed in, so nothing depends on when the
test runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings
from lakeml.monitor import QualityThresholdExceeded, check, run_check
from lakeml.wiring import adapters
from tests.monitor.lakefix import commit_all, commit_run, publish_dbt, read_report

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.fixture
def ports(home):
    return adapters(load_settings())


def test_a_healthy_day_passes_and_leaves_its_report_in_the_lake(ports):
    commit_all(ports.lake, NOW, quarantined=1)
    publish_dbt(ports.lake, "inv-1", {"model.silver.orders": "success", "test.not_null": "pass"})

    report = check(ports.settings, ports, "exec-1", now=NOW)

    document = report.document()
    assert document["passed"] and document["summary"].startswith("quality ok: 5 tables (0 failed)")
    assert document["measures"]["quarantine_rate"] == pytest.approx(0.01)
    assert document["dbt"]["invocation_id"] == "inv-1" and document["dbt"]["nodes"] == 2
    assert report.report_uri == ports.lake.uri_of("runs/quality", "exec-1.json")
    assert read_report(ports.lake, "exec-1")["summary"] == document["summary"]


def test_a_quarantine_rate_past_the_threshold_raises_after_writing_the_report(ports):
    commit_all(ports.lake, NOW, tables=("CUSTOMERS", "PRODUCTS", "ORDER_ITEMS", "SUPPORT_TICKETS"))
    commit_run(ports.lake, "ORDERS", "o1", committed_at=NOW - timedelta(hours=1), cursor=NOW, quarantined=60)
    publish_dbt(ports.lake, "inv-2", {"model.silver.orders": "success"})

    with pytest.raises(QualityThresholdExceeded, match=r"quarantined.*worst: ORDERS 60\.00%") as raised:
        check(ports.settings, ports, "exec-2", now=NOW)

    assert raised.value.exit_code == 1
    kept = read_report(ports.lake, "exec-2")
    assert [b["check"] for b in kept["breaches"]] == ["quarantine_rate"] and not kept["passed"]
    assert "exec-2.json" in str(raised.value)


def test_runs_outside_the_window_do_not_count_for_quarantine(ports):
    commit_all(ports.lake, NOW)
    commit_run(
        ports.lake,
        "ORDERS",
        "old",
        committed_at=NOW - timedelta(days=3),
        cursor=NOW - timedelta(days=3),
        quarantined=90,
    )
    publish_dbt(ports.lake, "inv", {})
    assert check(ports.settings, ports, "exec-w", now=NOW).passed


def test_failed_dbt_nodes_and_a_failed_ingest_table_are_breaches(ports):
    commit_all(ports.lake, NOW)
    publish_dbt(
        ports.lake,
        "inv-3",
        {"model.silver.orders": "error", "test.unique_orders": "fail", "test.freshness": "warn"},
        success=False,
    )
    ingest = [{"runs": [{"table": "ORDERS", "status": "failed", "error": "source timed out"}]}]

    report = run_check(ports.settings, ports, "exec-3", ingest=ingest, now=NOW)

    assert {b.check for b in report.breaches} == {"failed_tables", "dbt_failures"}
    assert report.dbt.failures == 2 and report.dbt.warnings == 1
    assert next(t for t in report.tables if t.table == "ORDERS").error == "source timed out"
    with pytest.raises(QualityThresholdExceeded, match="model.silver.orders"):
        report.raise_if_breached()


def test_no_dbt_run_is_said_clearly_and_can_be_allowed(ports):
    commit_all(ports.lake, NOW)

    report = run_check(ports.settings, ports, "exec-4", now=NOW)
    assert report.dbt.status == "missing" and "no dbt run" in report.dbt.message
    assert [b.check for b in report.breaches] == ["dbt_run"]
    assert "no dbt run" in report.summary()

    allowed = run_check(ports.settings, ports, "exec-5", overrides={"require_dbt_run": False}, now=NOW)
    assert allowed.passed


def test_a_table_that_never_landed_is_missing_and_watermark_lag_is_checked_when_configured(ports):
    commit_all(ports.lake, NOW, tables=("CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS"))
    publish_dbt(ports.lake, "inv", {})

    report = run_check(
        ports.settings,
        ports,
        "exec-6",
        overrides={"max_failed_tables": 1, "max_watermark_lag_hours": 1.5},
        now=NOW,
    )

    missing = next(t for t in report.tables if t.table == "SUPPORT_TICKETS")
    assert missing.status == "missing" and "lakeml ingest" in (missing.error or "")
    assert [b.check for b in report.breaches] == ["watermark_lag"]
    assert report.measures()["max_watermark_lag_hours"] == pytest.approx(2.0)


def test_bad_thresholds_and_execution_ids_are_usage_errors(ports):
    with pytest.raises(UsageError, match="thresholds.max_quarantine_rate"):
        run_check(ports.settings, ports, "x", overrides={"max_quarantine_rate": 3}, now=NOW)
    with pytest.raises(UsageError, match="cannot name a report"):
        run_check(ports.settings, ports, "../escape", now=NOW)


def test_a_step_functions_execution_arn_names_the_report_by_its_name(ports):
    commit_all(ports.lake, NOW)
    publish_dbt(ports.lake, "inv", {})
    arn = "arn:aws:states:eu-west-1:123456789012:execution:lakeml-daily-flow:run-42"
    assert run_check(ports.settings, ports, arn, now=NOW).execution_id == "run-42"
    assert read_report(ports.lake, "run-42")["execution_id"] == "run-42"


def test_thresholds_come_from_the_quality_settings(home, monkeypatch):
    monkeypatch.setenv("LAKEML_QUALITY__MAX_QUARANTINE_RATE", "0.5")
    settings = load_settings()
    ports = adapters(settings)
    commit_all(ports.lake, NOW, quarantined=40)
    publish_dbt(ports.lake, "inv", {})
    assert run_check(settings, ports, "exec-7", now=NOW).passed
