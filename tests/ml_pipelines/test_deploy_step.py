"""The deploy-staging Lambda's contract: event validation with clear errors, registry lookup, the deployer
call and the LambdaStep's outputs; and the thin handler over the wired ports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.errors import UsageError
from ml_pipelines.registry.sqlite import SqliteModelRegistry
from ml_pipelines.serving.deploy import DeployResult, VersionLike
from ml_pipelines.steps import deploy
from tests.ml_pipelines.serving.conftest import train_model

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/lakeml-churn/3"


def test_event_with_a_model_package_arn_names_group_and_version() -> None:
    request = deploy.parse_event({"model_package_arn": ARN, "endpoint_name": "lakeml-churn-staging"})
    assert request.group_and_version == ("lakeml-churn", 3)


def test_event_with_group_and_version_is_accepted() -> None:
    request = deploy.parse_event('{"model_package_group": "g", "model_version": 2, "endpoint_name": "e"}')
    assert request.group_and_version == ("g", 2)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"endpoint_name": "e"}, "give model_package_arn, or model_package_group and model_version"),
        ({"model_package_arn": "arn:aws:s3:::bucket", "endpoint_name": "e"}, "is not a model package ARN"),
        ({"model_package_arn": ARN, "endpoint_name": "bad_name!"}, "is not a SageMaker endpoint name"),
        ({"model_package_arn": ARN}, "endpoint_name: Field required"),
        (
            {"model_package_arn": ARN, "endpoint_name": "e", "extra": 1},
            "extra: Extra inputs are not permitted",
        ),
        ({"model_package_group": "g", "model_version": 0, "endpoint_name": "e"}, "model_version"),
        ("not json", "deploy event is not JSON"),
        (["a"], "must be a JSON object"),
    ],
)
def test_bad_events_are_refused_naming_the_problem(event: Any, message: str) -> None:
    with pytest.raises(UsageError) as error:
        deploy.parse_event(event)
    assert message in str(error.value)


class FakeDeployer:
    deploys_on_approval = False

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str]] = []

    def deploy(self, version: VersionLike, endpoint: str) -> DeployResult:
        self.calls.append((version, endpoint))
        return DeployResult(endpoint, f"{version.group}/{version.version}", "created")

    def serving(self, endpoint: str) -> None:
        return None


@pytest.fixture
def registry(tmp_path: Path) -> SqliteModelRegistry:
    registry = SqliteModelRegistry(tmp_path / "state.db")
    registry.create_group("lakeml-churn")
    return registry


def test_deploy_staging_deploys_the_registered_version_and_returns_the_step_outputs(
    registry: SqliteModelRegistry,
) -> None:
    version = registry.register("lakeml-churn", "s3://lakeml-lake/m/model.tar.gz", "img", {"auc": 0.8}, {})
    fake = FakeDeployer()
    out = deploy.deploy_staging(
        registry, fake, {"model_package_arn": version.arn, "endpoint_name": "lakeml-churn-staging"}
    )
    assert fake.calls[0][0].version == version.version and fake.calls[0][1] == "lakeml-churn-staging"
    assert out == {
        "status": "created",
        "endpoint_name": "lakeml-churn-staging",
        "model_package_arn": version.arn,
    }


def test_deploy_staging_refuses_a_rejected_version(registry: SqliteModelRegistry) -> None:
    version = registry.register("lakeml-churn", "s3://lakeml-lake/m/model.tar.gz", "img", {"auc": 0.8}, {})
    registry.reject("lakeml-churn", version.version, by="reviewer", reason="bias")
    fake = FakeDeployer()
    with pytest.raises(UsageError, match="is Rejected"):
        deploy.deploy_staging(
            registry, fake, {"model_package_arn": version.arn, "endpoint_name": "lakeml-churn-staging"}
        )
    assert fake.calls == []


def test_the_lambda_handler_deploys_through_the_wired_ports(home: Path) -> None:
    """`lakeml.handlers.deploy_staging:handler`, as the local runner calls it: local registry, local endpoint."""
    from lakeml.core.settings import load_settings
    from lakeml.handlers.deploy_staging import handler
    from lakeml.wiring import adapters

    ports = adapters(load_settings())
    train_model(home / "lake" / "models" / "v1")
    ports.registry.create_group("lakeml-churn")
    version = ports.registry.register("lakeml-churn", "s3://lakeml-lake/models/v1", "img", {"auc": 0.8}, {})
    out = handler({"model_package_arn": version.arn, "endpoint_name": "lakeml-churn-staging"}, None)
    assert out["status"] == "created" and out["model_package_arn"] == version.arn
    assert ports.deployer.serving("lakeml-churn-staging") == ("lakeml-churn", 1)


def test_command_line_reports_a_bad_event_with_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lakeml.handlers.deploy_staging", "--event", json.dumps({"x": 1})],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "invalid deploy event" in proc.stderr
