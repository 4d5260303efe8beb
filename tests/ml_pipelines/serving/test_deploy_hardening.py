"""The deployer on AWS encrypts the endpoint with the env's CMK and runs the model in the private subnets,
from the settings Terraform gives the deploy Lambdas (issue 13 §4); without them, neither (moto)."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from lakeml.core.errors import ConfigError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters

ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SUBNETS = ["subnet-0a1b2c3d4e5f67890", "subnet-0f9e8d7c6b5a43210"]
GROUPS = ["sg-0a1b2c3d4e5f67890"]


@dataclass
class Version:
    group: str = "lakeml-churn"
    version: int = 3
    arn: str = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/lakeml-churn/3"
    model_data_url: str = "s3://lakeml-lake/models/v3/model.tar.gz"
    image_uri: str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml:abc"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    (tmp_path / "none.toml").write_text("")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "LAKEML_HOME": str(tmp_path),
        "LAKEML_CONFIG": str(tmp_path / "none.toml"),
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": "eu-west-1",
        "LAKEML_AWS__LAKE_BUCKET": "lakeml-lake",
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN": ROLE,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="lakeml-lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="lakeml-lake", Key="models/v3/model.tar.gz", Body=b"model")
        yield monkeypatch


def deploy(endpoint: str) -> tuple[dict, dict]:
    deployer = adapters(load_settings()).deployer
    result = deployer.deploy(Version(), endpoint)
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=result.detail["endpoint_config"])
    model = sagemaker.describe_model(ModelName=result.detail["model_name"])
    return config, model


def test_the_endpoint_config_is_encrypted_and_the_model_private_with_the_settings(aws_env) -> None:
    aws_env.setenv("LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN", KEY)
    aws_env.setenv("LAKEML_AWS__SAGEMAKER_SUBNET_IDS", '["' + '","'.join(SUBNETS) + '"]')
    aws_env.setenv("LAKEML_AWS__SAGEMAKER_SECURITY_GROUP_IDS", '["' + GROUPS[0] + '"]')
    config, model = deploy("lakeml-churn-staging")
    assert config["KmsKeyId"] == KEY
    assert model["VpcConfig"] == {"Subnets": SUBNETS, "SecurityGroupIds": GROUPS}


def test_without_the_settings_sagemaker_keeps_its_defaults(aws_env) -> None:
    config, model = deploy("lakeml-churn-staging")
    assert not config.get("KmsKeyId")
    assert not model.get("VpcConfig")


def test_subnets_without_security_groups_are_refused(aws_env) -> None:
    aws_env.setenv("LAKEML_AWS__SAGEMAKER_SUBNET_IDS", '["' + SUBNETS[0] + '"]')
    with pytest.raises(ConfigError, match="LAKEML_AWS__SAGEMAKER_SECURITY_GROUP_IDS"):
        load_settings()
