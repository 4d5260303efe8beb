"""The deployer contract, run against both adapters: the local endpoint and SageMaker (moto server).

Local: the local endpoint config in a temporary home, model artefacts trained into a temporary lake.
SageMaker: moto serves CreateModel / CreateEndpointConfig / CreateEndpoint / Describe*, S3 (the artefacts)
and application-autoscaling. moto has no UpdateEndpoint, so `UpdateEndpointStub` answers that one call
the way SageMaker ends a successful blue/green update (the endpoint runs the new config) after botocore
has validated the request against the real API model; every other call goes to moto.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from lakeml.core import aws
from lakeml.core.lake.local import LocalLake
from ml_pipelines.registry import ModelRegistry, ModelVersion
from ml_pipelines.registry.sagemaker import SageMakerModelRegistry
from ml_pipelines.registry.sqlite import SqliteModelRegistry
from ml_pipelines.serving.deploy import Deployer, DeployFailed
from ml_pipelines.serving.deploy.local import LocalDeployer
from ml_pipelines.serving.deploy.sagemaker import SageMakerDeployConfig, SageMakerDeployer
from ml_pipelines.serving.on_approval import rollback
from tests.contract.aws_emulator import REGION, create_bucket
from tests.ml_pipelines.serving.conftest import train_model

BUCKET = "lakeml-deployer-test"
ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution"
_names = itertools.count(1)  # the moto server lives for the module: every test gets its own names


class UpdateEndpointStub(Stubber):
    """botocore's Stubber for UpdateEndpoint only: the endpoint is re-created on moto with the new
    config (what a finished blue/green update leaves); any other operation passes through to moto."""

    def __init__(self, client: Any, moto: Any) -> None:
        super().__init__(client)
        self.moto = moto
        self.updates: list[dict[str, Any]] = []

    def _assert_expected_params(
        self, model: Any, params: dict[str, Any], context: Any, **kwargs: Any
    ) -> None:
        if model.name == "UpdateEndpoint":
            self.updates.append(params)

    def _get_response_handler(self, model: Any, params: dict[str, Any], context: Any, **kwargs: Any) -> Any:
        if model.name != "UpdateEndpoint":
            return None  # moto answers
        request = self.updates[-1]
        arn = self.moto.describe_endpoint(EndpointName=request["EndpointName"])["EndpointArn"]
        self.moto.delete_endpoint(EndpointName=request["EndpointName"])
        self.moto.create_endpoint(
            EndpointName=request["EndpointName"], EndpointConfigName=request["EndpointConfigName"]
        )
        response = {"EndpointArn": arn}
        self._validate_operation_response(model.name, response)
        return AWSResponse(None, 200, {}, None), response


@dataclass
class Estate:
    """One adapter with what a test needs around it: a registry, names, and a place for artefacts."""

    deployer: Deployer
    registry: ModelRegistry
    group: str
    endpoint: str
    publish: Callable[[str, int], str]  # (group, n) -> URL of a model artefact that now exists
    missing: str  # URL of an artefact that does not exist

    def register(self, number: int, *, approve: bool = True, artefact: str | None = None) -> ModelVersion:
        url = artefact or self.publish(self.group, number)
        version = self.registry.register(self.group, url, "lakeml:test", {"auc": 0.8}, {})
        assert version.version == number
        if approve:
            version = self.registry.approve(self.group, number, by="tester", reason="contract test")
        return version


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained model, copied wherever a local test publishes an artefact."""
    return train_model(tmp_path_factory.mktemp("model") / "model")


@pytest.fixture(scope="module")
def aws_lake(aws_endpoint: str) -> str:
    """The moto server's URL, with the bucket the artefacts and the approval history live in."""
    create_bucket(aws_endpoint, BUCKET)
    return aws_endpoint


@pytest.fixture(params=["local", "sagemaker"])
def estate(request: pytest.FixtureRequest, tmp_path: Path, models: Path) -> Iterator[Estate]:
    n = next(_names)
    group, endpoint = f"churn-contract-{n}", f"churn-contract-{n}"
    if request.param == "local":
        lake = LocalLake.create(tmp_path / "lake")

        def publish_local(group: str, number: int) -> str:
            target = tmp_path / "lake" / "models" / group / f"v{number}"
            target.mkdir(parents=True)
            (target / "xgboost-model.json").write_bytes((models / "xgboost-model.json").read_bytes())
            return f"s3://lakeml-lake/models/{group}/v{number}"

        registry: ModelRegistry = SqliteModelRegistry(tmp_path / "state.db")
        registry.create_group(group)
        yield Estate(
            LocalDeployer(lake, tmp_path / "endpoints"),
            registry,
            group,
            endpoint,
            publish_local,
            "s3://lakeml-lake/models/nowhere",
        )
        return
    endpoint_url: str = request.getfixturevalue("aws_lake")
    s3 = aws.client("s3", REGION, endpoint_url)
    sagemaker = aws.client("sagemaker", REGION, endpoint_url)

    def publish_s3(group: str, number: int) -> str:
        key = f"models/{group}/v{number}/model.tar.gz"
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"model.tar.gz of the contract test")
        return f"s3://{BUCKET}/{key}"

    registry = SageMakerModelRegistry(sagemaker, s3, BUCKET)
    registry.create_group(group)
    deploying = aws.client("sagemaker", REGION, endpoint_url)  # the deployer's own, stubbed for updates
    with UpdateEndpointStub(deploying, sagemaker):
        yield Estate(
            SageMakerDeployer(
                deploying,
                aws.client("application-autoscaling", REGION, endpoint_url),
                SageMakerDeployConfig(execution_role_arn=ROLE),
                s3=s3,
            ),
            registry,
            group,
            endpoint,
            publish_s3,
            f"s3://{BUCKET}/models/nowhere/model.tar.gz",
        )


def test_nothing_serves_on_a_new_endpoint(estate: Estate) -> None:
    assert estate.deployer.serving(estate.endpoint) is None
    assert estate.deployer.endpoint_config(estate.endpoint) is None
    assert estate.deployer.variants(estate.endpoint) == []


def test_the_variants_show_the_deployed_version_with_all_the_traffic(estate: Estate) -> None:
    estate.deployer.deploy(estate.register(1), estate.endpoint)
    estate.deployer.deploy(estate.register(2), estate.endpoint)
    [variant] = estate.deployer.variants(estate.endpoint)
    assert (variant.name, variant.version, variant.weight) == ("AllTraffic", f"{estate.group}/2", 1.0)
    assert variant.to_json()["version"] == f"{estate.group}/2"
    if isinstance(estate.deployer, SageMakerDeployer):  # the live fleet's count and status
        assert (variant.instances, variant.status) == (1, "InService")
    else:  # one `lakeml serve` process, which the config file knows nothing of
        assert (variant.instances, variant.status) == (None, None)


def test_a_deployed_version_is_what_serves(estate: Estate) -> None:
    result = estate.deployer.deploy(estate.register(1), estate.endpoint)
    assert (result.endpoint, result.version, result.action) == (
        estate.endpoint,
        f"{estate.group}/1",
        "created",
    )
    assert estate.deployer.serving(estate.endpoint) == (estate.group, 1)
    # the config deploy made (SageMaker: endpoint_config; local: the config file) is the one serving
    made = result.detail.get("endpoint_config") or result.detail.get("config")
    assert made and estate.deployer.endpoint_config(estate.endpoint) == made


def test_deploying_another_version_serves_the_new_one(estate: Estate) -> None:
    estate.deployer.deploy(estate.register(1), estate.endpoint)
    result = estate.deployer.deploy(estate.register(2), estate.endpoint)
    assert (result.version, result.action) == (f"{estate.group}/2", "updated")
    assert estate.deployer.serving(estate.endpoint) == (estate.group, 2)


def test_a_version_without_its_artefact_is_refused_and_the_previous_keeps_serving(estate: Estate) -> None:
    estate.deployer.deploy(estate.register(1), estate.endpoint)
    broken = estate.register(2, artefact=estate.missing)
    with pytest.raises(
        DeployFailed,
        match=rf"{estate.group}/2 to {estate.endpoint} failed, the previous version keeps serving",
    ):
        estate.deployer.deploy(broken, estate.endpoint)
    assert estate.deployer.serving(estate.endpoint) == (estate.group, 1)


def test_rollback_returns_to_the_previous_approved_version(estate: Estate) -> None:
    estate.deployer.deploy(estate.register(1), estate.endpoint)
    estate.register(2, approve=False)  # pending: never rolled back to
    estate.deployer.deploy(estate.register(3), estate.endpoint)
    result = rollback(estate.registry, estate.deployer, estate.group, estate.endpoint)
    assert (result["rolled_back_from"], result["version"]) == (f"{estate.group}/3", f"{estate.group}/1")
    assert estate.deployer.serving(estate.endpoint) == (estate.group, 1)
