"""`lakeml lineage` through the CLI on a local home whose records are written as the stages write them:
bronze runs landed with ingestion's manifest model and index, a dbt build published by transform's
publisher, step reports in the execution folder, a version in the local registry. (The e2e test asks the
same command about the version a real `lakeml run` registered.)"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.transform.bronze import ChurnHistory, write_run

EXECUTION = "local-exec-1"


def write(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


@pytest.fixture
def trained(home: Path) -> dict[str, Any]:
    """Two customers runs in bronze, one dbt build over them, one version trained on it."""
    from lakeml.core.lake.local import LocalLake
    from lakeml.core.settings import load_settings
    from lakeml.transform.runs import publish_run_results, visible_bronze
    from lakeml.wiring import adapters

    lake_dir = home / "lake"
    history = ChurnHistory()
    cut = datetime(2025, 4, 1)
    write_run(lake_dir, "CUSTOMERS", "run-a", cut.date(), history.before("CUSTOMERS", cut))
    write_run(
        lake_dir, "CUSTOMERS", "run-b", date(2025, 4, 2), history.between("CUSTOMERS", cut, history.end)
    )
    target = home / "dbt-target"
    write(
        target / "run_results.json",
        {
            "metadata": {
                "invocation_id": "inv-42",
                "generated_at": "2026-12-03T10:00:00Z",
                "dbt_version": "1.12.6",
            },
            "results": [{"status": "success"}, {"status": "pass"}],
            "args": {"which": "build"},
        },
    )
    lake = LocalLake.create(lake_dir)
    publish_run_results(lake, target, target="local", success=True, bronze_runs=visible_bronze(lake))

    executions = lake_dir / "ml" / "churn" / "executions" / EXECUTION
    write(
        executions / "ingest" / "report" / "ingest.json",
        {
            "feature_group": "lakeml-customer-features",
            "rows": 640,
            "customers": 20,
            "snapshot_from": "2025-01-05",
            "snapshot_to": "2025-07-13",
            "lineage": {"dbt_invocation_id": "inv-42"},
        },
    )
    write(
        executions / "prepare" / "report" / "split.json",
        {
            "data_snapshot": "2025-07-13",
            "splits": {"train": {"rows": 400, "snapshot_from": "2025-01-05", "snapshot_to": "2025-05-04"}},
        },
    )
    write(
        executions / "evaluate" / "evaluation" / "evaluation.json",
        {"lineage": {"training_job": "lakeml-train-1", "training_rows": 400}},
    )
    registry = adapters(load_settings(home=home)).registry
    registry.create_group("lakeml-churn")
    metadata = {
        "pipeline_execution_id": EXECUTION,
        "dbt_invocation_id": "inv-42",
        "data_snapshot": "2025-07-13",
        "git_sha": "abc123",
    }
    version = registry.register(
        "lakeml-churn", "s3://lakeml-lake/model.tar.gz", "image", {"auc": 0.9}, metadata
    )
    return {"version": version.version}


def test_lineage_names_source_windows_bronze_runs_dbt_build_training_snapshot_and_endpoints(
    lakeml: Any, trained: dict[str, Any]
) -> None:
    result = lakeml("--json", "lineage", str(trained["version"]))
    assert result.code == 0, result
    doc = result.json
    assert doc["gaps"] == []
    assert doc["model"]["name"] == "lakeml-churn/1"
    assert (
        doc["training"].items()
        >= {
            "pipeline_execution_id": EXECUTION,
            "data_snapshot": "2025-07-13",
            "git_sha": "abc123",
            "training_job": "lakeml-train-1",
            "training_rows": 400,
        }.items()
    )
    assert doc["training"]["splits"]["train"] == {
        "rows": 400,
        "snapshot_from": "2025-01-05",
        "snapshot_to": "2025-05-04",
    }
    assert doc["features"]["lineage"] == {"dbt_invocation_id": "inv-42"}
    assert doc["dbt"]["invocation_id"] == "inv-42"
    assert doc["dbt"]["run_results"].endswith("/runs/dbt/inv-42/run_results.json")
    assert (doc["dbt"]["nodes"], doc["dbt"]["failed"], doc["dbt"]["command"]) == (2, 0, "build")
    assert [(r["table"], r["run_id"]) for r in doc["bronze_runs"]] == [
        ("CUSTOMERS", "run-a"),
        ("CUSTOMERS", "run-b"),
    ]
    window = doc["source_windows"]["customers"]
    assert window["runs"] == 2 and window["from"] is None  # the fixture's runs read from the beginning
    # run-b's window ends at its day (the fixture's rule when no cursor is newer): the later of the two
    assert window["to"] == "2025-04-02T00:00:00"
    assert [r["window_high"] for r in doc["bronze_runs"]][1] == window["to"]
    assert [(e["endpoint"], e["serving"], e["this_version"]) for e in doc["endpoints"]] == [
        ("lakeml-churn", None, False),
        ("lakeml-churn-staging", None, False),
    ]

    text = lakeml("lineage", "1")  # the human rendering says the same
    assert text.code == 0, text
    assert "inv-42" in text.stdout and "customers" in text.stdout and "2025-07-13" in text.stdout


def test_a_version_without_a_dbt_build_is_a_gap_that_says_what_to_do(lakeml: Any, home: Path) -> None:
    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    registry = adapters(load_settings(home=home)).registry
    registry.create_group("lakeml-churn")
    registry.register(
        "lakeml-churn",
        "s3://lakeml-lake/m.tar.gz",
        "image",
        {"auc": 0.9},
        {"dbt_invocation_id": "unknown", "data_snapshot": "2025-07-13", "git_sha": "abc"},
    )
    result = lakeml("--json", "lineage", "1")
    assert result.code == 1, result
    gaps = " | ".join(result.json["gaps"])
    assert "records no dbt invocation (unknown)" in gaps and "lakeml transform" in gaps
    assert "names no training execution" in gaps


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("lineage", "7"), "version"),
        (("lineage", "1", "--group", "nope"), "nope"),
        (("lineage", "latest"), "is not a number or 'champion'"),
        (("lineage", "champion"), "has no Approved version"),
    ],
)
def test_unknown_versions_and_groups_exit_2_naming_them(
    lakeml: Any, trained: dict[str, Any], args: tuple[str, ...], message: str
) -> None:
    result = lakeml("--json", *args)
    assert result.code == 2, result
    assert message in result.json["error"]
