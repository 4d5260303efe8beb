"""Idempotent approval on AWS: while a blue/green update is in flight, the SageMaker deployer reports
the version being deployed, so a repeated approval event finds it "already serving" instead of starting a
second UpdateEndpoint that SageMaker would refuse. moto has no blue/green state, so botocore's Stubber
answers the three Describe calls with the documented response shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.stub import Stubber

from lakeml.core import aws
from ml_pipelines.serving.deploy.sagemaker import SageMakerDeployConfig, SageMakerDeployer

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _describe_endpoint(pending: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "EndpointName": "lakeml-churn",
        "EndpointArn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/lakeml-churn",
        "EndpointConfigName": "lakeml-churn-v1-1",
        "EndpointStatus": "Updating" if pending else "InService",
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    if pending:
        response["PendingDeploymentSummary"] = {"EndpointConfigName": pending, "StartTime": NOW}
    return response


def _serving(pending: str | None, config: str, version: int) -> tuple[str, int] | None:
    sm = aws.client("sagemaker", "eu-west-1", None)
    deployer = SageMakerDeployer(sm, autoscaling=None, config=SageMakerDeployConfig(execution_role_arn=None))
    with Stubber(sm) as stub:
        stub.add_response("describe_endpoint", _describe_endpoint(pending), {"EndpointName": "lakeml-churn"})
        stub.add_response(
            "describe_endpoint_config",
            {
                "EndpointConfigName": config,
                "EndpointConfigArn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint-config/{config}",
                "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": config}],
                "CreationTime": NOW,
            },
            {"EndpointConfigName": config},
        )
        stub.add_response(
            "describe_model",
            {
                "ModelName": config,
                "ModelArn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model/{config}",
                "CreationTime": NOW,
                "Containers": [
                    {
                        "ModelPackageName": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/"
                        f"lakeml-churn/{version}"
                    }
                ],
            },
            {"ModelName": config},
        )
        answer = deployer.serving("lakeml-churn")
        stub.assert_no_pending_responses()
    return answer


def test_mid_update_the_version_being_deployed_is_what_serves(monkeypatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    assert _serving("lakeml-churn-v2-2", "lakeml-churn-v2-2", 2) == ("lakeml-churn", 2)
    assert _serving(None, "lakeml-churn-v1-1", 1) == ("lakeml-churn", 1)
