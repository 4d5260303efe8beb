"""`lakeml pipeline definition|upsert|start`: the printed definition is the snapshot; upsert creates then
updates the pipeline and start starts an execution (moto's SageMaker; it records, it runs nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.errors import UsageError

pytestmark = pytest.mark.xdist_group("ml_cli")
SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_definition_command_prints_the_training_definition(lakeml: Any) -> None:
    result = lakeml("pipeline", "definition")
    assert result.code == 0, result
    assert json.loads(result.stdout) == json.loads((SNAPSHOTS / "training.json").read_text())


def test_upsert_and_start_refuse_local_env_with_the_fix(lakeml: Any) -> None:
    result = lakeml("--json", "pipeline", "upsert")
    assert result.code == 2
    assert "LAKEML_ENV=aws" in result.json["error"]


@pytest.fixture
def aws(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

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
    with mock_aws():
        from lakeml.core.settings import load_settings

        yield load_settings()


def test_upsert_creates_then_updates_and_start_starts_an_execution(aws: Any) -> None:
    import boto3

    from lakeml.cli.pipeline import start, upsert
    from ml_pipelines.pipeline import TRAINING_PIPELINE

    first = upsert(aws)
    assert first["action"] == "created" and first["pipeline"] == TRAINING_PIPELINE
    client = boto3.client("sagemaker", region_name="eu-west-1")
    described = client.describe_pipeline(PipelineName=TRAINING_PIPELINE)
    assert described["RoleArn"] == "arn:aws:iam::123456789012:role/lakeml-sagemaker"
    stored = json.loads(described["PipelineDefinition"])
    assert [s["Name"] for s in stored["Steps"]][:2] == ["IngestFeatures", "Prepare"]
    assert upsert(aws)["action"] == "updated"
    started = start(aws, params={"MaxTuningJobs": "4"})
    assert started["execution_arn"].startswith("arn:aws:sagemaker:eu-west-1:")
    executions = client.list_pipeline_executions(PipelineName=TRAINING_PIPELINE)["PipelineExecutionSummaries"]
    assert len(executions) == 1


def test_start_of_a_missing_pipeline_says_to_upsert_first(aws: Any) -> None:
    from lakeml.cli.pipeline import start
    from lakeml.core.errors import LakemlError

    with pytest.raises(LakemlError, match="lakeml pipeline upsert"):
        start(aws, batch=True)


def test_require_aws_names_the_setting() -> None:
    from lakeml.cli.pipeline import _require_aws
    from lakeml.core.settings import Settings

    with pytest.raises(UsageError, match="LAKEML_ENV=aws"):
        _require_aws(Settings(env="local"), "start")


def test_upsert_refuses_placeholder_aws_names_naming_the_variables(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakeml.cli.pipeline import upsert
    from lakeml.core.errors import ConfigError

    monkeypatch.delenv("LAKEML_AWS__ACCOUNT_ID")
    with pytest.raises(ConfigError, match="LAKEML_AWS__IMAGE_URI, LAKEML_AWS__DEPLOY_FUNCTION_ARN not set"):
        upsert(aws)
