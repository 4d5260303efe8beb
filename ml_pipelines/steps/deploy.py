"""Deploy a registered model version to the staging endpoint — what the pipeline's LambdaStep runs.

The pipeline calls the Lambda with `{"model_package_arn": …, "endpoint_name": …}` right after registration
(`{"model_package_group": …, "model_version": …, "endpoint_name": …}` is accepted too, for manual use).
This module owns that contract: validate the event (a bad event is a clear usage error, never a half
deployment), resolve the version in the registry, then hand it to a `Deployer`
(`ml_pipelines.serving.deploy`). The Lambda entry point is `lakeml.handlers.deploy_staging:handler`; it
wires the registry and the deployer and calls `deploy_staging`.

The LambdaStep's outputs are the handler's return keys: `status`, `endpoint_name`, `model_package_arn`.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakeml.core.errors import UsageError
from ml_pipelines.registry import REJECTED

if TYPE_CHECKING:
    from ml_pipelines.registry import ModelRegistry
    from ml_pipelines.serving.deploy import Deployer

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


def deploy_staging(registry: ModelRegistry, deployer: Deployer, event: Any) -> dict[str, Any]:
    """Validate the event, look the version up in the registry, deploy it, and return the LambdaStep's
    outputs. Staging takes PendingManualApproval versions (that is what it is for); a Rejected version is
    refused."""
    request = parse_event(event)
    group, number = request.group_and_version
    version = registry.get(group, number)
    if version.status == REJECTED:
        raise UsageError(f"{group}/{number} is Rejected; it cannot be deployed to {request.endpoint_name}")
    result = deployer.deploy(version, request.endpoint_name).to_json()
    return {
        "status": str(result.get("action", "deployed")),
        "endpoint_name": request.endpoint_name,
        "model_package_arn": version.arn,
    }
