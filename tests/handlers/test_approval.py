"""on-approval and deploy-staging Lambdas with the events SageMaker sends, on the local registry and
endpoint of the test's LAKEML_HOME.

on-approval: Approved deploys the champion, Rejected / PendingManualApproval change nothing (the rule
matches Approved only, the function does not trust that), a second delivery of the same event deploys
nothing and says so. And `lakeml models approve` reaches the same deploy code as the AWS event path.
deploy-staging: the pipeline LambdaStep's event deploys to the staging endpoint and returns the step's
outputs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.settings import load_settings
from lakeml.handlers import deploy_staging, on_approval
from lakeml.wiring import adapters
from ml_pipelines.serving import on_approval as library
from ml_pipelines.serving.deploy.local import LocalDeployer
from tests.handlers.conftest import FakeLambdaContext, event
from tests.ml_pipelines.serving.conftest import train_model

GROUP = "lakeml-churn"  # the group of the fixtures


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small trained models, trained once for the module (training is the slow part)."""
    folder = tmp_path_factory.mktemp("artefacts")
    for number in (1, 2):
        train_model(folder / f"v{number}", seed=number)
    return folder


@pytest.fixture
def registered(home, artefacts: Path):
    """Versions 1 and 2 of the fixtures' group, each with a trained artefact in the local lake."""
    settings = load_settings()
    ports = adapters(settings)
    ports.registry.create_group(GROUP)
    for number in (1, 2):
        shutil.copytree(artefacts / f"v{number}", settings.lake_dir / "models" / f"v{number}")
        ports.registry.register(
            GROUP,
            model_data_url=f"s3://lakeml-lake/models/v{number}",
            image_uri="lakeml:local",
            metrics={"auc": 0.8},
            metadata={"git_sha": "abc"},
        )
    return ports


@pytest.fixture
def deploys(monkeypatch) -> list[tuple[str, str]]:
    """Every deployment the local deployer makes: (version label, endpoint)."""
    made: list[tuple[str, str]] = []
    real = LocalDeployer.deploy

    def spy(self: LocalDeployer, version: Any, endpoint: str) -> Any:
        made.append((f"{version.group}/{version.version}", endpoint))
        return real(self, version, endpoint)

    monkeypatch.setattr(LocalDeployer, "deploy", spy)
    return made


def test_an_approved_event_deploys_and_its_second_delivery_does_nothing(registered, deploys) -> None:
    registered.registry.approve(GROUP, 2, by="reviewer", reason="good")  # done in the console on AWS

    first = on_approval.handler(event("model_package_approved"), FakeLambdaContext())
    again = on_approval.handler(event("model_package_approved"), FakeLambdaContext())

    assert first["deployed"]["version"] == f"{GROUP}/2" and first["champion"] == 2
    assert again["deployed"] is None and "already serves" in again["reason"]
    assert deploys == [(f"{GROUP}/2", "lakeml-churn")]
    assert registered.deployer.serving("lakeml-churn") == (GROUP, 2)


def test_an_event_without_a_version_number_takes_it_from_the_package_name(registered, deploys) -> None:
    registered.registry.approve(GROUP, 2, by="reviewer", reason="good")
    result = on_approval.handler(event("model_package_approved_no_version"), FakeLambdaContext())
    assert result["deployed"]["version"] == f"{GROUP}/2"


@pytest.mark.parametrize("name", ["model_package_rejected", "model_package_pending"])
def test_other_statuses_are_acknowledged_and_deploy_nothing(registered, deploys, name) -> None:
    registered.registry.approve(GROUP, 1, by="reviewer", reason="good")
    on_approval.handler(library.state_change_event(GROUP, 1, "Approved"), FakeLambdaContext())
    deploys.clear()

    result = on_approval.handler(event(name), FakeLambdaContext())

    assert result["deployed"] is None and "only Approved versions" in result["reason"]
    assert deploys == [] and registered.deployer.serving("lakeml-churn") == (GROUP, 1)


def test_an_approved_event_the_registry_contradicts_is_ignored(registered, deploys) -> None:
    result = on_approval.handler(event("model_package_approved"), FakeLambdaContext())  # v2 is pending
    assert result["deployed"] is None and "ignored" in result["reason"] and deploys == []


def test_local_approval_and_the_aws_event_reach_the_same_deploy_code(
    registered, deploys, lakeml, monkeypatch
) -> None:
    hooks: list[str] = []
    real_hook = library.champion_hook

    def spy_hook(deployer: Any, endpoint: str = library.PRODUCTION_ENDPOINT) -> Any:
        hooks.append(type(deployer).__name__)
        return real_hook(deployer, endpoint)

    monkeypatch.setattr(library, "champion_hook", spy_hook)

    cli = lakeml("--json", "models", "approve", "1", "--group", GROUP, "--reason", "local decision")
    assert cli.code == 0, cli
    registered.registry.approve(GROUP, 2, by="console", reason="aws decision")
    lambda_result = on_approval.handler(event("model_package_approved"), FakeLambdaContext())

    assert hooks == ["LocalDeployer", "LocalDeployer"]  # one hook, one deployer, both paths
    assert deploys == [(f"{GROUP}/1", "lakeml-churn"), (f"{GROUP}/2", "lakeml-churn")]
    assert cli.json["effects"]["deployed"]["version"] == f"{GROUP}/1"
    assert lambda_result["deployed"]["version"] == f"{GROUP}/2"


def test_the_pipeline_lambda_step_event_deploys_to_staging(registered, deploys) -> None:
    outputs = deploy_staging.handler(event("pipeline_lambda_step"), FakeLambdaContext())

    assert outputs["endpoint_name"] == "lakeml-churn-staging"
    assert outputs["status"] in {"created", "updated"}
    assert outputs["model_package_arn"] == registered.registry.get(GROUP, 2).arn
    assert deploys == [(f"{GROUP}/2", "lakeml-churn-staging")]
    assert set(outputs) == {"status", "endpoint_name", "model_package_arn"}  # the LambdaStep's outputs


def test_on_aws_a_repeated_approval_event_deploys_once(home, monkeypatch) -> None:
    """The same handler on the AWS adapters (moto: SageMaker registry, endpoint, S3 artefacts): the first
    delivery creates the endpoint, the second finds the version serving and deploys nothing."""
    from tests.contract.aws_emulator import create_bucket, moto_server

    with moto_server() as endpoint:
        create_bucket(endpoint, "lakeml-approval-test")
        for name, value in {
            "LAKEML_ENV": "aws",
            "LAKEML_AWS__ENDPOINT_URL": endpoint,
            "LAKEML_AWS__LAKE_BUCKET": "lakeml-approval-test",
            "LAKEML_AWS__SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution",
        }.items():
            monkeypatch.setenv(name, value)
        ports = adapters(load_settings())
        s3 = ports.lake.fs  # the artefact goes where the registry says it is
        with s3.open_output_stream("lakeml-approval-test/models/v1/model.tar.gz") as out:
            out.write(b"model")
        ports.registry.create_group(GROUP)
        version = ports.registry.register(
            GROUP, "s3://lakeml-approval-test/models/v1/model.tar.gz", "lakeml:test", {"auc": 0.8}, {}
        )
        ports.registry.approve(GROUP, version.version, by="console", reason="good")
        approved = event("model_package_approved")
        approved["detail"] |= {"ModelPackageVersion": version.version, "ModelPackageArn": version.arn}

        first = on_approval.handler(approved, FakeLambdaContext())
        again = on_approval.handler(approved, FakeLambdaContext())

        assert first["deployed"]["action"] == "created" and first["deployed"]["endpoint"] == "lakeml-churn"
        assert again["deployed"] is None and "already serves" in again["reason"]
        assert ports.deployer.serving("lakeml-churn") == (GROUP, version.version)
