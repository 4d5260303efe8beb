"""Deploy a registered model version to the staging endpoint — the target of the pipeline's LambdaStep.

The pipeline calls the Lambda with `{"model_package_arn": …, "endpoint_name": …}` right after registration
(`{"model_package_group": …, "model_version": …, "endpoint_name": …}` is accepted too, for manual use). This module owns that contract: validate the event (a bad event is a clear
usage error, never a half deployment), resolve the version in the registry, then hand it to a `Deployer`
— the serving side's (`ml_pipelines.serving.deploy`), chosen by environment.

The LambdaStep's outputs are the handler's return keys: `status`, `endpoint_name`, `model_package_arn`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakeml.core.errors import ConfigError, LakemlError, UsageError

if TYPE_CHECKING:
    from lakeml.core.settings import Settings

MODEL_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:\d{12}:model-package/[A-Za-z0-9\-]{1,63}/\d+$"
)
# Endpoint names: SageMaker's rule (alphanumerics and hyphens, ≤ 63, no leading/trailing hyphen).
ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class DeployRequest(BaseModel):
    """The LambdaStep's inputs. Either a full model package ARN, or (locally) group + version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_name: str = Field(min_length=1, max_length=63)
    model_package_arn: str | None = None
    model_package_group: str | None = None
    model_version: int | None = Field(default=None, ge=1)

    @field_validator("endpoint_name")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if not ENDPOINT_NAME.match(value):
            raise ValueError(f"{value!r} is not a SageMaker endpoint name (letters, digits, hyphens; ≤ 63)")
        return value

    @field_validator("model_package_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not MODEL_PACKAGE_ARN.match(value):
            raise ValueError(
                f"{value!r} is not a model package ARN "
                "(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
            )
        return value

    @model_validator(mode="after")
    def _names_a_version(self) -> DeployRequest:
        if self.model_package_arn is None and (
            self.model_package_group is None or self.model_version is None
        ):
            raise ValueError("give model_package_arn, or model_package_group and model_version")
        return self

    @property
    def group_and_version(self) -> tuple[str, int]:
        if self.model_package_arn is not None:
            group, version = self.model_package_arn.rsplit("/", 2)[-2:]
            return group, int(version)
        assert self.model_package_group is not None and self.model_version is not None
        return self.model_package_group, self.model_version


class DeployedLike(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class Deployer(Protocol):
    """Puts a registered model version behind an endpoint — `ml_pipelines.serving.deploy` implements it
    (LocalDeployer: the local server's endpoint config; SageMakerDeployer: blue/green endpoint update)."""

    def deploy(self, version: Any, endpoint: str) -> DeployedLike: ...


_deployer: Deployer | None = None


def set_deployer(deployer: Deployer | None) -> None:
    """Install the deployer the handler calls (tests install fakes; None restores the default)."""
    global _deployer
    _deployer = deployer


def default_deployer(settings: Settings) -> Deployer:
    """Serving's deployer for this environment. On AWS the endpoint's execution role comes from
    LAKEML_AWS__SAGEMAKER_ROLE_ARN, which infra sets on the Lambda."""
    from ml_pipelines.serving import deploy as serving

    if settings.env == "local":
        return serving.LocalDeployer(settings)
    role = os.environ.get("LAKEML_AWS__SAGEMAKER_ROLE_ARN")
    if not role:
        raise ConfigError(
            "LAKEML_AWS__SAGEMAKER_ROLE_ARN is not set; the deploy Lambda needs the endpoint's "
            "execution role (set it in the Lambda's environment, infra/ does)"
        )
    import boto3

    options = {"region_name": settings.aws.region, "endpoint_url": settings.aws.endpoint_url}
    return serving.SageMakerDeployer(
        boto3.client("sagemaker", **options),
        boto3.client("application-autoscaling", **options),
        serving.SageMakerDeployConfig(execution_role_arn=role),
    )


def parse_event(event: Any) -> DeployRequest:
    """The validated request, or a UsageError that lists every problem of the event."""
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            raise UsageError("deploy event is not JSON") from None
    if not isinstance(event, dict):
        raise UsageError(f"deploy event must be a JSON object, got {type(event).__name__}")
    try:
        return DeployRequest.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise UsageError(f"invalid deploy event: {problems}") from None


def handler(event: dict[str, Any] | str, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: validate the event, look the version up in the registry, deploy it, and return
    the LambdaStep's outputs. Staging takes PendingManualApproval versions (that is what it is for);
    a Rejected version is refused."""
    request = parse_event(event)
    from lakeml.core.settings import load_settings
    from ml_pipelines.registry import model_registry

    settings = load_settings()
    group, number = request.group_and_version
    version = model_registry(settings).get(group, number)
    if version.status == "Rejected":
        raise UsageError(f"{group}/{number} is Rejected; it cannot be deployed to {request.endpoint_name}")
    deployer = _deployer or default_deployer(settings)
    result = deployer.deploy(version, request.endpoint_name).to_json()
    return {
        "status": str(result.get("action", "deployed")),
        "endpoint_name": request.endpoint_name,
        "model_package_arn": version.arn,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml_pipelines.steps.deploy", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--event", required=True, help="the Lambda event as JSON")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(handler(args.event)))
    except LakemlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
