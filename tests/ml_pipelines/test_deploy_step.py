"""The deploy Lambda's contract: event validation with clear errors, registry lookup, the deployer call
and the LambdaStep's outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.errors import UsageError
from ml_pipelines.steps import deploy

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


@dataclass
class Recorded:
    endpoint: str
    version: str
    action: str = "created"

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "version": self.version, "action": self.action}


class FakeDeployer:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, str]] = []

    def deploy(self, version: Any, endpoint: str) -> Recorded:
        self.calls.append((version, endpoint))
        return Recorded(endpoint, f"{version.group}/{version.version}")


@pytest.fixture
def registry(home: Path) -> Any:
    from lakeml.core.settings import load_settings
    from ml_pipelines.registry import model_registry

    registry = model_registry(load_settings())
    registry.create_group("lakeml-churn")
    return registry


def test_handler_deploys_the_registered_version_and_returns_the_step_outputs(registry: Any) -> None:
    version = registry.register("lakeml-churn", "s3://lakeml-lake/m/model.tar.gz", "img", {"auc": 0.8}, {})
    fake = FakeDeployer()
    deploy.set_deployer(fake)
    try:
        out = deploy.handler({"model_package_arn": version.arn, "endpoint_name": "lakeml-churn-staging"})
    finally:
        deploy.set_deployer(None)
    assert fake.calls[0][0].version == version.version and fake.calls[0][1] == "lakeml-churn-staging"
    assert out == {
        "status": "created",
        "endpoint_name": "lakeml-churn-staging",
        "model_package_arn": version.arn,
    }


def test_handler_refuses_a_rejected_version(registry: Any) -> None:
    version = registry.register("lakeml-churn", "s3://lakeml-lake/m/model.tar.gz", "img", {"auc": 0.8}, {})
    registry.reject("lakeml-churn", version.version, by="reviewer", reason="bias")
    deploy.set_deployer(FakeDeployer())
    try:
        with pytest.raises(UsageError, match="is Rejected"):
            deploy.handler({"model_package_arn": version.arn, "endpoint_name": "lakeml-churn-staging"})
    finally:
        deploy.set_deployer(None)


def test_command_line_reports_a_bad_event_with_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ml_pipelines.steps.deploy", "--event", json.dumps({"x": 1})],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "invalid deploy event" in proc.stderr
