"""Deploying an approved model version to an endpoint — locally and on SageMaker, behind one Protocol.

AWS: a Model from the model package, a new EndpointConfig, then CreateEndpoint or UpdateEndpoint with a
blue/green canary deployment that rolls back on the named CloudWatch alarms, and target-tracking
autoscaling on the variant. Local: the endpoint config of the local server points at the version's
model (the running server swaps it in without dropping requests). Either way a failed deploy leaves the
previous version serving, and `rollback` returns to the previous Approved version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings
from ml_pipelines.serving import endpoint as endpoint_config
from ml_pipelines.serving.model import load_model


class VersionLike(Protocol):
    group: str
    version: int
    arn: str
    model_data_url: str
    image_uri: str


@dataclass(frozen=True)
class DeployResult:
    endpoint: str
    version: str
    action: str  # created | updated | unchanged
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "version": self.version, "action": self.action, **self.detail}


class Deployer(Protocol):
    def deploy(self, version: VersionLike, endpoint: str) -> DeployResult: ...


def version_label(version: VersionLike) -> str:
    return f"{version.group}/{version.version}"


class LocalDeployer:
    """Points the local endpoint at a version. The model is loaded once here first, so a broken artefact
    fails the deploy instead of reaching the server."""

    def __init__(self, settings: Settings) -> None:
        from ml_pipelines.runner.config import RunnerConfig

        self.settings = settings
        self.runner_config = RunnerConfig.from_settings(settings)

    def deploy(self, version: VersionLike, endpoint: str = endpoint_config.DEFAULT_ENDPOINT) -> DeployResult:
        model_path = self.runner_config.local_path(version.model_data_url)
        try:
            load_model(model_path, version_label(version))
        except LakemlError as exc:
            raise LakemlError(
                f"deploy of {version_label(version)} to {endpoint} failed, the previous version keeps "
                f"serving: {exc}"
            ) from None
        path = endpoint_config.config_path(self.settings, endpoint)
        previous = endpoint_config.read(path) if path.is_file() else None
        history = (
            [*previous.history, *({"version": v.version, "model": v.model} for v in previous.variants)]
            if previous
            else []
        )
        config = endpoint_config.EndpointConfig(
            endpoint=endpoint,
            variants=[
                endpoint_config.Variant(
                    name="AllTraffic", model=str(model_path), version=version_label(version)
                )
            ],
            data_capture=previous.data_capture if previous else endpoint_config.DataCapture(),
            history=history[-20:],
        )
        endpoint_config.write(path, config)
        return DeployResult(
            endpoint,
            version_label(version),
            "updated" if previous else "created",
            {"config": str(path), "model": str(model_path)},
        )


@dataclass
class SageMakerDeployConfig:
    execution_role_arn: str
    instance_type: str = "ml.m5.large"
    initial_instance_count: int = 1
    min_capacity: int = 1
    max_capacity: int = 4
    invocations_per_instance_target: float = 200.0
    rollback_alarms: tuple[str, ...] = ("lakeml-endpoint-5xx", "lakeml-endpoint-latency-p99")
    canary_percent: int = 10
    canary_wait_seconds: int = 300
    termination_wait_seconds: int = 600
    data_capture_s3_uri: str | None = None
    variant_name: str = "AllTraffic"


class SageMakerDeployer:
    def __init__(self, sagemaker: Any, autoscaling: Any, config: SageMakerDeployConfig) -> None:
        self.sm = sagemaker
        self.autoscaling = autoscaling
        self.config = config

    def deploy(self, version: VersionLike, endpoint: str) -> DeployResult:
        suffix = f"v{version.version}-{int(time.time())}"
        model_name = f"{endpoint}-{suffix}"[:63]
        self.sm.create_model(
            ModelName=model_name,
            ExecutionRoleArn=self.config.execution_role_arn,
            Containers=[{"ModelPackageName": version.arn}],
        )
        config_name = f"{endpoint}-{suffix}"[:63]
        endpoint_config_args: dict[str, Any] = {
            "EndpointConfigName": config_name,
            "ProductionVariants": [
                {
                    "VariantName": self.config.variant_name,
                    "ModelName": model_name,
                    "InstanceType": self.config.instance_type,
                    "InitialInstanceCount": self.config.initial_instance_count,
                    "InitialVariantWeight": 1.0,
                }
            ],
        }
        if self.config.data_capture_s3_uri:
            endpoint_config_args["DataCaptureConfig"] = {
                "EnableCapture": True,
                "InitialSamplingPercentage": 10,
                "DestinationS3Uri": self.config.data_capture_s3_uri,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            }
        self.sm.create_endpoint_config(**endpoint_config_args)
        if self._exists(endpoint):
            self.sm.update_endpoint(
                EndpointName=endpoint,
                EndpointConfigName=config_name,
                DeploymentConfig=self.deployment_config(),
            )
            action = "updated"
        else:
            self.sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
            action = "created"
        self._autoscale(endpoint)
        return DeployResult(
            endpoint,
            version_label(version),
            action,
            {"model_name": model_name, "endpoint_config": config_name},
        )

    def deployment_config(self) -> dict[str, Any]:
        """Blue/green with canary traffic shifting; any named alarm in ALARM rolls back automatically."""
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": self.config.canary_percent},
                    "WaitIntervalInSeconds": self.config.canary_wait_seconds,
                },
                "TerminationWaitInSeconds": self.config.termination_wait_seconds,
                "MaximumExecutionTimeoutInSeconds": 3600,
            },
            "AutoRollbackConfiguration": {
                "Alarms": [{"AlarmName": name} for name in self.config.rollback_alarms]
            },
        }

    def _exists(self, endpoint: str) -> bool:
        try:
            self.sm.describe_endpoint(EndpointName=endpoint)
            return True
        except self.sm.exceptions.ClientError as exc:
            if "Could not find endpoint" in str(exc) or exc.response["Error"]["Code"] in (
                "ValidationException",
            ):
                return False
            raise

    def _autoscale(self, endpoint: str) -> None:
        resource = f"endpoint/{endpoint}/variant/{self.config.variant_name}"
        self.autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=self.config.min_capacity,
            MaxCapacity=self.config.max_capacity,
        )
        self.autoscaling.put_scaling_policy(
            PolicyName=f"{endpoint}-invocations-target",
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": self.config.invocations_per_instance_target,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        )
