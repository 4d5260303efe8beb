"""Approval drives deployment: the state-change event deploys Approved versions only, rollback goes back."""

from __future__ import annotations

import pytest

from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters
from ml_pipelines.serving import endpoint as endpoint_config
from ml_pipelines.serving.on_approval import handle, rollback, state_change_event
from tests.ml_pipelines.serving.conftest import train_model

GROUP = "lakeml-churn"


@pytest.fixture
def registry_with_versions(home):
    settings = load_settings()
    ports = adapters(settings)
    registry = ports.registry
    registry.create_group(GROUP)
    for number in (1, 2, 3):
        train_model(settings.lake_dir / "models" / f"v{number}", seed=number)
        registry.register(
            GROUP,
            model_data_url=f"s3://lakeml-lake/models/v{number}",
            image_uri="lakeml:local",
            metrics={"auc": 0.8},
            metadata={"git_sha": "abc"},
        )
    return ports, registry


def approve(ports, registry, number):
    registry.approve(GROUP, number, by="tester", reason="good")
    return handle(registry, ports.deployer, state_change_event(GROUP, number, "Approved"))


def serving_version(ports):
    return ports.deployer.serving("lakeml-churn")


def test_approving_the_newest_version_deploys_it(registry_with_versions):
    ports, registry = registry_with_versions
    result = approve(ports, registry, 2)
    assert result["deployed"]["version"] == f"{GROUP}/2" and result["champion"] == 2
    assert serving_version(ports) == (GROUP, 2)


def test_approving_an_older_version_keeps_the_champion_serving(registry_with_versions):
    ports, registry = registry_with_versions
    approve(ports, registry, 3)
    result = approve(ports, registry, 1)
    assert result["deployed"] is None and "already serves" in result["reason"]
    assert serving_version(ports) == (GROUP, 3)


def test_rejecting_the_champion_serves_the_previous_approved_version(registry_with_versions):
    ports, registry = registry_with_versions
    approve(ports, registry, 1)
    approve(ports, registry, 2)
    registry.reject(GROUP, 2, by="tester", reason="worse on recent data")
    result = handle(registry, ports.deployer, state_change_event(GROUP, 2, "Rejected"))
    assert result["deployed"]["version"] == f"{GROUP}/1"
    assert serving_version(ports) == (GROUP, 1)


def test_rejecting_a_non_champion_changes_nothing(registry_with_versions):
    ports, registry = registry_with_versions
    approve(ports, registry, 1)
    registry.reject(GROUP, 3, by="tester", reason="no")
    assert handle(registry, ports.deployer, state_change_event(GROUP, 3, "Rejected"))["deployed"] is None
    assert serving_version(ports) == (GROUP, 1)


def test_stale_approved_event_for_a_rejected_version_does_not_deploy(registry_with_versions):
    ports, registry = registry_with_versions
    approve(ports, registry, 1)
    registry.reject(GROUP, 2, by="tester", reason="no")
    assert "ignored" in handle(registry, ports.deployer, state_change_event(GROUP, 2, "Approved"))["reason"]
    assert serving_version(ports) == (GROUP, 1)


def test_rollback_returns_to_the_previous_approved_version(registry_with_versions):
    ports, registry = registry_with_versions
    approve(ports, registry, 1)
    approve(ports, registry, 3)
    result = rollback(registry, ports.deployer, GROUP)
    assert result["rolled_back_from"] == f"{GROUP}/3" and result["version"] == f"{GROUP}/1"
    config = endpoint_config.read(endpoint_config.config_path(ports.settings))
    assert config.variants[0].version == f"{GROUP}/1"
    with pytest.raises(LakemlError, match="no earlier version is Approved"):
        rollback(registry, ports.deployer, GROUP)


def test_a_malformed_event_is_a_clear_usage_error(registry_with_versions):
    ports, registry = registry_with_versions
    with pytest.raises(
        UsageError, match="expected an EventBridge 'SageMaker Model Package State Change' event"
    ):
        handle(registry, ports.deployer, {"detail-type": "Scheduled Event"})
    with pytest.raises(UsageError, match="detail.ModelPackageVersion"):
        handle(
            registry,
            ports.deployer,
            {
                "detail-type": "SageMaker Model Package State Change",
                "detail": {"ModelPackageGroupName": GROUP, "ModelApprovalStatus": "Approved"},
            },
        )
