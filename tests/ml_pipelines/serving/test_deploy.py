"""Deploying approved versions: SageMaker request shapes (moto + botocore Stubber) and the local endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from lakeml.core.errors import LakemlError
from ml_pipelines.serving import endpoint as endpoint_config
from ml_pipelines.serving.deploy.local import LocalDeployer
from ml_pipelines.serving.deploy.sagemaker import SageMakerDeployConfig, SageMakerDeployer
from tests.ml_pipelines.serving.conftest import train_model

ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution"
PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/lakeml-churn/3"


@dataclass
class Version:
    group: str = "lakeml-churn"
    version: int = 3
    arn: str = PACKAGE
    model_data_url: str = "s3://lakeml-lake/models/v3/model.tar.gz"
    image_uri: str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml:abc"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield (
            boto3.client("sagemaker", region_name="eu-west-1"),
            boto3.client("application-autoscaling", region_name="eu-west-1"),
        )


def test_first_deploy_creates_model_config_endpoint_and_autoscaling(aws):
    sagemaker, autoscaling = aws
    result = SageMakerDeployer(sagemaker, autoscaling, SageMakerDeployConfig(execution_role_arn=ROLE)).deploy(
        Version(), "lakeml-churn-staging"
    )
    assert result.action == "created"
    described = sagemaker.describe_endpoint(EndpointName="lakeml-churn-staging")
    assert described["EndpointConfigName"] == result.detail["endpoint_config"]
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=result.detail["endpoint_config"])[
        "ProductionVariants"
    ][0]
    assert variant["ModelName"] == result.detail["model_name"]
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert targets[0]["ResourceId"] == "endpoint/lakeml-churn-staging/variant/AllTraffic"
    assert (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) == (1, 4)
    policy = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"][0]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert (
        policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        == "SageMakerVariantInvocationsPerInstance"
    )


def test_update_uses_blue_green_canary_with_alarm_rollback(aws):
    """moto has no UpdateEndpoint: a Stubber checks every request against SageMaker's real API model."""
    _, autoscaling = aws
    client = boto3.client("sagemaker", region_name="eu-west-1")
    config = SageMakerDeployConfig(execution_role_arn=ROLE, rollback_alarms=("churn-5xx", "churn-p99"))
    with Stubber(client) as stub:
        stub.add_response(
            "create_model",
            {"ModelArn": "arn:aws:sagemaker:eu-west-1:123456789012:model/m"},
            {"ModelName": ANY, "ExecutionRoleArn": ROLE, "Containers": [{"ModelPackageName": PACKAGE}]},
        )
        stub.add_response(
            "create_endpoint_config",
            {"EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/c"},
            {"EndpointConfigName": ANY, "ProductionVariants": ANY},
        )
        stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": "lakeml-churn",
                "EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/lakeml-churn",
                "EndpointConfigName": "old",
                "EndpointStatus": "InService",
                "CreationTime": "2026-11-01T00:00:00Z",
                "LastModifiedTime": "2026-11-01T00:00:00Z",
            },
            {"EndpointName": "lakeml-churn"},
        )
        stub.add_response(
            "update_endpoint",
            {"EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/lakeml-churn"},
            {
                "EndpointName": "lakeml-churn",
                "EndpointConfigName": ANY,
                "DeploymentConfig": {
                    "BlueGreenUpdatePolicy": {
                        "TrafficRoutingConfiguration": {
                            "Type": "CANARY",
                            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                            "WaitIntervalInSeconds": 300,
                        },
                        "TerminationWaitInSeconds": 600,
                        "MaximumExecutionTimeoutInSeconds": 3600,
                    },
                    "AutoRollbackConfiguration": {
                        "Alarms": [{"AlarmName": "churn-5xx"}, {"AlarmName": "churn-p99"}]
                    },
                },
            },
        )
        result = SageMakerDeployer(client, autoscaling, config).deploy(Version(), "lakeml-churn")
        stub.assert_no_pending_responses()
    assert result.action == "updated"


@pytest.fixture
def local(home, tmp_path):
    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    settings = load_settings()
    train_model(settings.lake_dir / "models" / "v3")
    deployer = adapters(settings).deployer
    assert isinstance(deployer, LocalDeployer)
    return settings, deployer


def test_local_deploy_points_the_endpoint_at_the_version_and_keeps_history(local):
    settings, deployer = local
    first = deployer.deploy(Version(version=3, model_data_url="s3://lakeml-lake/models/v3"), "lakeml-churn")
    assert first.action == "created"
    train_model(settings.lake_dir / "models" / "v4", seed=4)
    second = deployer.deploy(Version(version=4, model_data_url="s3://lakeml-lake/models/v4"), "lakeml-churn")
    config = endpoint_config.read(endpoint_config.config_path(settings))
    assert second.action == "updated"
    assert config.variants[0].version == "lakeml-churn/4"
    assert config.history[-1]["version"] == "lakeml-churn/3"


def test_local_deploy_of_a_broken_model_fails_and_leaves_the_previous_serving(local):
    settings, deployer = local
    deployer.deploy(Version(version=3, model_data_url="s3://lakeml-lake/models/v3"), "lakeml-churn")
    with pytest.raises(LakemlError, match="previous version keeps serving"):
        deployer.deploy(Version(version=5, model_data_url="s3://lakeml-lake/models/missing"), "lakeml-churn")
    assert endpoint_config.read(endpoint_config.config_path(settings)).variants[0].version == "lakeml-churn/3"
