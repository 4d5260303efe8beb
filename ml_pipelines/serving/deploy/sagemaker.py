"""AWS adapter of the deployer: a SageMaker endpoint, updated blue/green.

A deploy makes a Model from the model package, a new EndpointConfig, then CreateEndpoint, or UpdateEndpoint
with a blue/green canary deployment that rolls back on the named CloudWatch alarms; then target-tracking
autoscaling on the variant. Before any of that, the version's artefact is looked up in S3, so a missing
artefact fails the deploy at once instead of as a failed endpoint update minutes later; and SageMaker
itself keeps the old fleet serving until the new one is healthy. The execution role comes from
`settings.aws.sagemaker_role_arn`, the endpoint's CMK and private subnets from `settings.aws.sagemaker_*`
(passed by the wiring); clients from `lakeml.core.aws.client`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from lakeml.core.aws import error_code
from lakeml.core.errors import ConfigError
from ml_pipelines.serving.deploy.port import (
    DeployResult,
    EndpointVariant,
    VersionLike,
    deploy_failed,
    parse_label,
    version_label,
)

MAX_NAME = 63  # SageMaker's limit on model / endpoint config names


@dataclass
class SageMakerDeployConfig:
    execution_role_arn: str | None
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
    # Hardening (settings aws.sagemaker_*; unset locally and in tests that do not ask for it): the CMK of
    # the endpoint's storage volumes (the endpoint config's KmsKeyId) and of its captured data, and the
    # private subnets and security groups the model's containers run in.
    kms_key_arn: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()


class SageMakerDeployer:
    """`sagemaker`, `autoscaling` (application-autoscaling) and, optionally, `s3` (to check the artefact
    exists before deploying) are boto3 clients."""

    deploys_on_approval = True  # EventBridge runs the on-approval Lambda on every status change

    def __init__(
        self, sagemaker: Any, autoscaling: Any, config: SageMakerDeployConfig, s3: Any = None
    ) -> None:
        self.sm = sagemaker
        self.autoscaling = autoscaling
        self.config = config
        self.s3 = s3

    def deploy(self, version: VersionLike, endpoint: str) -> DeployResult:
        role = self.config.execution_role_arn
        if not role:
            raise ConfigError(
                "aws.sagemaker_role_arn is not set; deploying an endpoint needs its execution role: set "
                "LAKEML_AWS__SAGEMAKER_ROLE_ARN (infra sets it on the Lambdas; `terraform output lakeml`)"
            )
        self._check_artefact(version, endpoint)
        suffix = f"v{version.version}-{time.time_ns() // 1_000_000}"
        name = f"{endpoint[: MAX_NAME - len(suffix) - 1]}-{suffix}"
        model_args: dict[str, Any] = {
            "ModelName": name,
            "ExecutionRoleArn": role,
            "Containers": [{"ModelPackageName": version.arn}],
        }
        if self.config.subnet_ids:
            model_args["VpcConfig"] = {
                "Subnets": list(self.config.subnet_ids),
                "SecurityGroupIds": list(self.config.security_group_ids),
            }
        self.sm.create_model(**model_args)
        config_args: dict[str, Any] = {
            "EndpointConfigName": name,
            "ProductionVariants": [
                {
                    "VariantName": self.config.variant_name,
                    "ModelName": name,
                    "InstanceType": self.config.instance_type,
                    "InitialInstanceCount": self.config.initial_instance_count,
                    "InitialVariantWeight": 1.0,
                }
            ],
        }
        if self.config.kms_key_arn:
            config_args["KmsKeyId"] = self.config.kms_key_arn
        if self.config.data_capture_s3_uri:
            config_args["DataCaptureConfig"] = {
                "EnableCapture": True,
                "InitialSamplingPercentage": 10,
                "DestinationS3Uri": self.config.data_capture_s3_uri,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            }
            if self.config.kms_key_arn:
                config_args["DataCaptureConfig"]["KmsKeyId"] = self.config.kms_key_arn
        self.sm.create_endpoint_config(**config_args)
        if self._describe(endpoint) is not None:
            self.sm.update_endpoint(
                EndpointName=endpoint, EndpointConfigName=name, DeploymentConfig=self.deployment_config()
            )
            action = "updated"
        else:
            self.sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=name)
            action = "created"
        self._autoscale(endpoint)
        return DeployResult(
            endpoint, version_label(version), action, {"model_name": name, "endpoint_config": name}
        )

    def serving(self, endpoint: str) -> tuple[str, int] | None:
        """The version behind the endpoint's config: endpoint -> config -> model -> package ARN.

        During a blue/green update this is the version being deployed (the pending deployment's config):
        a repeated approval event that arrives mid-update must see its deploy as done, not start a second
        UpdateEndpoint that SageMaker refuses while the endpoint is Updating. If the update rolls back,
        the endpoint's config is the old one again and so is the answer."""
        described = self._describe(endpoint)
        if described is None:
            return None
        pending = (described.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        config_name = pending or described["EndpointConfigName"]
        config = self.sm.describe_endpoint_config(EndpointConfigName=config_name)
        label = self._version_of(config["ProductionVariants"][0]["ModelName"])
        return parse_label(label) if label else None

    def variants(self, endpoint: str) -> list[EndpointVariant]:
        """DescribeEndpoint's live ProductionVariants (current weight, instances, status), each with the
        version of the model its endpoint config gives it (model -> model package ARN)."""
        described = self._describe(endpoint)
        if described is None:
            return []
        config = self.sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        live = {v["VariantName"]: v for v in described.get("ProductionVariants") or []}
        found = []
        for configured in config["ProductionVariants"]:
            name = configured["VariantName"]
            running = live.get(name, {})
            pending = [s["Status"] for s in running.get("VariantStatus") or []]
            weight = running.get("CurrentWeight", configured.get("InitialVariantWeight", 1.0))
            found.append(
                EndpointVariant(
                    name=name,
                    version=self._version_of(configured["ModelName"]),
                    weight=float(weight),
                    instances=running.get("CurrentInstanceCount"),
                    status=pending[0] if pending else described.get("EndpointStatus"),
                )
            )
        return found

    def _version_of(self, model_name: str) -> str | None:
        """The version ("<group>/<n>") of the model package a SageMaker Model was made from, as `deploy`
        makes them; None for a model made otherwise."""
        model = self.sm.describe_model(ModelName=model_name)
        container = (model.get("Containers") or [model.get("PrimaryContainer") or {}])[0]
        package = container.get("ModelPackageName")
        if not package:
            return None
        group, number = parse_label(package)
        return f"{group}/{number}"

    def endpoint_config(self, endpoint: str) -> str | None:
        """The config whose version `serving` reports: during a blue/green update, the pending one."""
        described = self._describe(endpoint)
        if described is None:
            return None
        pending = (described.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        return str(pending or described["EndpointConfigName"])

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

    def _check_artefact(self, version: VersionLike, endpoint: str) -> None:
        """The model.tar.gz (or model folder) the package points at exists in S3."""
        url = urlparse(version.model_data_url)
        if self.s3 is None or url.scheme != "s3":
            return
        bucket, key = url.netloc, url.path.lstrip("/")
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return
        except self.s3.exceptions.ClientError as exc:
            if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                raise deploy_failed(
                    version, endpoint, f"cannot read {version.model_data_url}: {exc}"
                ) from None
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/") + "/", MaxKeys=1)
        if not listed.get("KeyCount"):
            raise deploy_failed(version, endpoint, f"model artefact {version.model_data_url} does not exist")

    def _describe(self, endpoint: str) -> dict[str, Any] | None:
        try:
            return dict(self.sm.describe_endpoint(EndpointName=endpoint))
        except self.sm.exceptions.ClientError as exc:
            if "Could not find endpoint" in str(exc) or error_code(exc) == "ValidationException":
                return None
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
