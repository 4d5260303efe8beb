"""`train()` and `score()` read an execution the same way whichever runner executed it: here a runner that
records what it is asked and ends executions as told, and a local lake holding what the steps would
have written (evaluation.json, score files)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.lake.local import LocalLake
from lakeml.core.settings import Settings
from ml_pipelines.pipeline import Target, evaluation_uri, scores_uri
from ml_pipelines.runner.port import ExecutionStatus, RegisteredModel, StepCallback, UpsertResult
from ml_pipelines.scoring import score
from ml_pipelines.training import TrainingFailed, train

EXECUTION = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-training/execution/e1"


class ScriptedRunner:
    """Upserts are recorded; every execution ends with `ending`."""

    def __init__(self, ending: ExecutionStatus, *, remote: bool = False) -> None:
        self.remote = remote
        self.ending = ending
        self.upserted: list[str] = []
        self.started: list[tuple[str, dict[str, str]]] = []

    def upsert(self, name: str, definition: dict[str, Any], *, description: str = "") -> UpsertResult:
        self.upserted.append(name)
        return UpsertResult(pipeline=name, arn=f"arn:{name}", action="created", definition_bytes=1)

    def start(
        self, name: str, parameters: Mapping[str, str] | None = None, *, on_step: StepCallback | None = None
    ) -> str:
        self.started.append((name, dict(parameters or {})))
        return self.ending.execution_id

    def describe(self, execution: str) -> ExecutionStatus:
        return self.ending

    def wait(
        self, execution: str, *, timeout_s: float | None = None, on_step: StepCallback | None = None
    ) -> ExecutionStatus:
        return self.ending


@pytest.fixture(autouse=True)
def no_sdk_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """The definition's content is not what these tests are about (test_pipeline.py is): skip the build."""
    monkeypatch.setattr("ml_pipelines.lifecycle.definition", lambda target, batch: {"Version": "2020-12-01"})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def lake(settings: Settings) -> LocalLake:
    return LocalLake.create(settings.lake_dir)


def write(lake: LocalLake, uri: str, text: str) -> None:
    path = Path(lake.resolve(uri))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def evaluation(lake: LocalLake, auc: float, champion_auc: float | None) -> None:
    document = {
        "metrics": {"auc": {"value": auc}},
        "champion": {"auc": {"value": champion_auc} if champion_auc is not None else None},
    }
    write(lake, evaluation_uri(Target(), "e1"), json.dumps(document))


def test_a_registered_challenger_reports_its_version_and_both_aucs(
    settings: Settings, lake: LocalLake
) -> None:
    registered = RegisteredModel(group="lakeml-churn", version=3, status="PendingManualApproval")
    runner = ScriptedRunner(
        ExecutionStatus(
            execution_id=EXECUTION,
            pipeline="lakeml-churn-training",
            status="Succeeded",
            registered=registered,
        )
    )
    evaluation(lake, 0.861, 0.842)
    outcome = train(settings, runner, lake, {"MaxTuningJobs": "2"})
    assert runner.upserted == ["lakeml-churn-training"]
    assert runner.started == [("lakeml-churn-training", {"MaxTuningJobs": "2"})]
    assert (outcome.status, outcome.auc, outcome.champion_auc) == ("Succeeded", 0.861, 0.842)
    assert outcome.summary == (
        "test AUC 0.861 vs champion 0.842; registered lakeml-churn version 3 (PendingManualApproval)"
    )
    document = outcome.document()
    assert document["registered"]["version"] == 3 and document["auc"] == 0.861


def test_a_missed_gate_is_an_outcome_saying_why(settings: Settings, lake: LocalLake) -> None:
    runner = ScriptedRunner(
        ExecutionStatus(
            execution_id=EXECUTION,
            pipeline="lakeml-churn-training",
            status="Failed",
            failure_reason="Model not registered: gate beats_champion failed",
            failed_step="GateFailed",
            failed_by_fail_step=True,
        )
    )
    evaluation(lake, 0.80, None)
    outcome = train(settings, runner, lake)
    assert outcome.failed_by_fail_step and outcome.registered is None
    assert outcome.summary == (
        "test AUC 0.800 (no champion yet); nothing registered: Model not registered: gate beats_champion failed"
    )


def test_any_other_failed_step_raises_naming_it_and_where_its_output_is(
    settings: Settings, lake: LocalLake
) -> None:
    runner = ScriptedRunner(
        ExecutionStatus(
            execution_id="abc123",
            pipeline="lakeml-churn-training",
            status="Failed",
            failure_reason="exit code 1",
            failed_step="Prepare",
            logs_hint="lakeml pipeline logs abc123 Prepare",
        )
    )
    with pytest.raises(TrainingFailed, match=r"step Prepare failed: exit code 1 — see `lakeml pipeline logs"):
        train(settings, runner, lake)


def test_a_remote_runner_gets_no_definition_naming_placeholder_resources(
    settings: Settings, lake: LocalLake
) -> None:
    runner = ScriptedRunner(
        ExecutionStatus(execution_id=EXECUTION, pipeline="p", status="Succeeded"), remote=True
    )
    with pytest.raises(ConfigError, match="LAKEML_AWS__SAGEMAKER_ROLE_ARN, LAKEML_AWS__IMAGE_URI"):
        train(settings, runner, lake)
    assert runner.upserted == []


def test_scoring_counts_the_scores_written_to_the_lake(settings: Settings, lake: LocalLake) -> None:
    runner = ScriptedRunner(ExecutionStatus(execution_id="b1", pipeline="batch", status="Succeeded"))
    uri = scores_uri(Target())
    write(lake, f"{uri}/features.csv.out", "1,0.1\n2,0.7\n3,0.2\n")
    outcome = score(settings, runner, lake)
    assert runner.started == [("lakeml-churn-batch-scoring", {"OutputUri": uri})]
    assert outcome.rows == 3 and outcome.output == lake.resolve(uri)


def test_failed_scoring_raises_with_where_to_look(settings: Settings, lake: LocalLake) -> None:
    runner = ScriptedRunner(
        ExecutionStatus(
            execution_id="b2",
            pipeline="batch",
            status="Failed",
            failure_reason="no Approved version",
            failed_step="BatchInputs",
            logs_hint="lakeml pipeline logs b2 BatchInputs",
        )
    )
    with pytest.raises(
        LakemlError, match="batch scoring failed: no Approved version .details: `lakeml pipeline"
    ):
        score(settings, runner, lake)


def test_the_outcome_says_how_many_feature_records_were_written_and_skipped(
    settings: Settings, lake: LocalLake
) -> None:
    from ml_pipelines.pipeline.training import INGEST_OUTPUT, output_uri

    runner = ScriptedRunner(
        ExecutionStatus(execution_id=EXECUTION, pipeline="lakeml-churn-training", status="Succeeded")
    )
    evaluation(lake, 0.861, None)
    report = {
        "records_written": 5000,
        "records_skipped": 245000,
        "event_times_written": ["2026-11-30T00:00:00Z"],
        "backfill": False,
        "seconds": 1.2,
        "rows": 250000,
    }
    write(lake, output_uri(Target(), "e1", INGEST_OUTPUT), json.dumps(report))
    outcome = train(settings, runner, lake)
    assert outcome.summary.startswith("features: 5,000 records written, 245,000 skipped; test AUC 0.861")
    assert outcome.document()["features"] == {k: v for k, v in report.items() if k != "rows"}
