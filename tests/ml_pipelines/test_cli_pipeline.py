"""`lakeml pipeline definition|upsert|start`: the printed definition is the snapshot; upsert creates then
updates the pipeline and start starts an execution — on the local runner by default, on SageMaker (moto:
it records, it runs nothing) with LAKEML_ENV=aws."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("ml_cli")
SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_definition_command_prints_the_training_definition(lakeml: Any) -> None:
    result = lakeml("pipeline", "definition")
    assert result.code == 0, result
    assert json.loads(result.stdout) == json.loads((SNAPSHOTS / "training.json").read_text())


def test_upsert_stores_the_definition_for_the_local_runner_and_start_runs_it(lakeml: Any, home: Path) -> None:
    missing = lakeml("--json", "pipeline", "start", "--batch")
    assert missing.code == 2 and "lakeml pipeline upsert" in missing.json["error"]
    first = lakeml("--json", "pipeline", "upsert", "--batch")
    assert first.code == 0, first
    assert (first.json["action"], first.json["pipeline"]) == ("created", "lakeml-churn-batch-scoring")
    stored = home / "pipelines" / "definitions" / "lakeml-churn-batch-scoring.json"
    assert json.loads(stored.read_text())["definition"] == json.loads((SNAPSHOTS / "batch.json").read_text())
    assert lakeml("--json", "pipeline", "upsert", "--batch").json["action"] == "updated"
    started = lakeml("--json", "pipeline", "start", "--batch")  # runs now: no gold, no champion -> Failed
    assert started.code == 0, started
    assert started.json["status"] == "Failed"
    assert (home / "pipelines" / "executions" / started.json["execution_arn"]).is_dir()


def test_run_where_the_wiring_does_not_point_names_the_setting(lakeml: Any) -> None:
    result = lakeml("--json", "pipeline", "run", "--aws")
    assert result.code == 2 and "LAKEML_ENV=aws" in result.json["error"]


@pytest.fixture
def aws(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """LAKEML_ENV=aws against moto's in-process SageMaker (it records pipelines, runs nothing). moto lacks
    ListPipelineExecutionSteps; it is added answering what moto runs: no steps."""
    from moto import mock_aws
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    from lakeml.core import aws as aws_clients

    monkeypatch.setattr(
        SageMakerResponse,
        "list_pipeline_execution_steps",
        lambda self: ActionResult({"PipelineExecutionSteps": []}),
        raising=False,
    )

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__LAKE_BUCKET": "lakeml-lake",
        "LAKEML_AWS__ACCOUNT_ID": "123456789012",
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/lakeml-sagemaker",
    }.items():
        monkeypatch.setenv(name, value)
    aws_clients.reset()
    with mock_aws():
        from lakeml.core.settings import load_settings

        yield load_settings()
    aws_clients.reset()


def test_upsert_creates_then_updates_and_start_starts_an_execution(lakeml: Any, aws: Any) -> None:
    import boto3

    from ml_pipelines.pipeline import TRAINING_PIPELINE

    first = lakeml("--json", "pipeline", "upsert")
    assert first.code == 0, first
    assert first.json["action"] == "created" and first.json["pipeline"] == TRAINING_PIPELINE
    client = boto3.client("sagemaker", region_name="eu-west-1")
    described = client.describe_pipeline(PipelineName=TRAINING_PIPELINE)
    assert described["RoleArn"] == "arn:aws:iam::123456789012:role/lakeml-sagemaker"
    stored = json.loads(described["PipelineDefinition"])
    assert [s["Name"] for s in stored["Steps"]][:2] == ["IngestFeatures", "Prepare"]
    assert lakeml("--json", "pipeline", "upsert").json["action"] == "updated"
    started = lakeml("--json", "pipeline", "start", "--param", "MaxTuningJobs=4")
    assert started.code == 0, started
    assert started.json["execution_arn"].startswith("arn:aws:sagemaker:eu-west-1:")
    assert started.json["parameters"] == {"MaxTuningJobs": "4"}
    executions = client.list_pipeline_executions(PipelineName=TRAINING_PIPELINE)["PipelineExecutionSummaries"]
    assert len(executions) == 1
    assert not (Path(aws.home) / "pipelines" / "executions").exists()  # nothing ran locally


def test_start_of_a_missing_pipeline_says_to_upsert_first(lakeml: Any, aws: Any) -> None:
    result = lakeml("--json", "pipeline", "start", "--batch")
    assert result.code == 2
    assert "lakeml-churn-batch-scoring does not exist in SageMaker" in result.json["error"]
    assert "lakeml pipeline upsert" in result.json["error"]


def test_upsert_refuses_placeholder_aws_names_naming_the_variables(
    lakeml: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEML_AWS__ACCOUNT_ID")
    result = lakeml("--json", "pipeline", "upsert")
    assert result.code == 2
    assert "LAKEML_AWS__IMAGE_URI, LAKEML_AWS__DEPLOY_FUNCTION_ARN not set" in result.json["error"]
