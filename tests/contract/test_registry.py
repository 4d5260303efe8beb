"""The model registry contract, run against both adapters: local SQLite and SageMaker (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ml_pipelines.registry import (
    APPROVED,
    PENDING,
    REJECTED,
    InvalidRegistration,
    InvalidTransition,
    ModelRegistry,
    UnknownModelGroup,
    UnknownModelVersion,
)
from ml_pipelines.registry.sagemaker import SageMakerModelRegistry
from ml_pipelines.registry.sqlite import SqliteModelRegistry

GROUP = "churn-test"
BUCKET = "lakeml-test-lake"


@pytest.fixture(params=["sqlite", "sagemaker"])
def registry(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModelRegistry]:
    if request.param == "sqlite":
        yield SqliteModelRegistry(tmp_path / "state.db")
        return
    import boto3
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield SageMakerModelRegistry(boto3.client("sagemaker", region_name="eu-west-1"), s3, BUCKET)


def register(registry: ModelRegistry, auc: float = 0.8, **kwargs) -> int:
    registry.create_group(GROUP)
    return registry.register(
        GROUP,
        model_data_url=f"s3://bucket/models/{auc}/model.tar.gz",
        image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml:abc",
        metrics={"auc": auc},
        metadata={"git_sha": "abc123"},
        **kwargs,
    ).version


def test_versions_are_numbered_from_one_per_group(registry: ModelRegistry) -> None:
    assert [register(registry) for _ in range(3)] == [1, 2, 3]
    registry.create_group("other-group")
    other = registry.register("other-group", "s3://b/m.tar.gz", "image:1", {}, {})
    assert other.version == 1
    assert [v.version for v in registry.list_versions(GROUP)] == [1, 2, 3]


def test_create_group_is_idempotent(registry: ModelRegistry) -> None:
    registry.create_group(GROUP, "first")
    registry.create_group(GROUP, "again")
    assert registry.list_groups().count(GROUP) == 1


def test_register_is_pending_unless_told(registry: ModelRegistry) -> None:
    assert registry.get(GROUP, register(registry)).status == PENDING
    assert registry.get(GROUP, register(registry, approval_status=APPROVED)).status == APPROVED


def test_no_champion_until_a_version_is_approved(registry: ModelRegistry) -> None:
    register(registry)
    assert registry.champion(GROUP) is None


def test_approving_makes_the_champion(registry: ModelRegistry) -> None:
    version = register(registry)
    registry.approve(GROUP, version, by="alice", reason="beats the floor")
    champion = registry.champion(GROUP)
    assert champion is not None and champion.version == version and champion.status == APPROVED


def test_pending_and_rejected_versions_are_never_champion(registry: ModelRegistry) -> None:
    approved = register(registry)
    registry.approve(GROUP, approved, by="alice", reason="ok")
    rejected = register(registry)
    registry.reject(GROUP, rejected, by="alice", reason="worse calibration")
    register(registry)  # newest, still pending
    champion = registry.champion(GROUP)
    assert champion is not None and champion.version == approved


def test_approving_a_newer_version_moves_the_champion(registry: ModelRegistry) -> None:
    first, second = register(registry), register(registry)
    registry.approve(GROUP, first, by="alice", reason="ok")
    registry.approve(GROUP, second, by="bob", reason="better")
    champion = registry.champion(GROUP)
    assert champion is not None and champion.version == second


def test_rejecting_the_champion_falls_back_to_the_previous_approved(registry: ModelRegistry) -> None:
    first, second = register(registry), register(registry)
    registry.approve(GROUP, first, by="alice", reason="ok")
    registry.approve(GROUP, second, by="alice", reason="better")
    registry.reject(GROUP, second, by="bob", reason="drift in production")
    champion = registry.champion(GROUP)
    assert champion is not None and champion.version == first
    registry.reject(GROUP, first, by="bob", reason="also bad")
    assert registry.champion(GROUP) is None


def test_approval_records_who_when_and_why(registry: ModelRegistry) -> None:
    version = register(registry)
    before = datetime.now(UTC) - timedelta(seconds=1)
    approved = registry.approve(
        GROUP, version, by="alice@example.com", reason="AUC 0.84, beats 0.82; calibrated!"
    )
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert approved.status_by == "alice@example.com"
    assert approved.status_reason == "AUC 0.84, beats 0.82; calibrated!"
    assert approved.status_at is not None and before <= approved.status_at <= after
    (event,) = registry.history(GROUP, version)
    assert (event.from_status, event.to_status, event.by) == (PENDING, APPROVED, "alice@example.com")
    assert event.reason == "AUC 0.84, beats 0.82; calibrated!"
    assert before <= event.at <= after


def test_history_keeps_every_decision_in_order(registry: ModelRegistry) -> None:
    version = register(registry)
    registry.approve(GROUP, version, by="alice", reason="ok")
    registry.reject(GROUP, version, by="bob", reason="withdrawn")
    registry.approve(GROUP, version, by="carol", reason="fixed upstream data")
    history = registry.history(GROUP, version)
    assert [(e.from_status, e.to_status, e.by) for e in history] == [
        (PENDING, APPROVED, "alice"),
        (APPROVED, REJECTED, "bob"),
        (REJECTED, APPROVED, "carol"),
    ]


def test_a_new_version_has_no_history(registry: ModelRegistry) -> None:
    version = register(registry)
    assert registry.history(GROUP, version) == []
    assert registry.get(GROUP, version).status_by is None


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_repeating_a_decision_is_refused_and_changes_nothing(registry: ModelRegistry, decision: str) -> None:
    version = register(registry)
    getattr(registry, decision)(GROUP, version, by="alice", reason="first")
    with pytest.raises(InvalidTransition, match=rf"{GROUP} version {version} is already"):
        getattr(registry, decision)(GROUP, version, by="bob", reason="second")
    assert len(registry.history(GROUP, version)) == 1


def test_a_decision_needs_a_reason_and_a_valid_approver(registry: ModelRegistry) -> None:
    version = register(registry)
    with pytest.raises(InvalidRegistration, match="needs a reason"):
        registry.approve(GROUP, version, by="alice", reason="  ")
    with pytest.raises(InvalidRegistration, match="approver"):
        registry.approve(GROUP, version, by="alice, bob", reason="ok")
    assert registry.get(GROUP, version).status == PENDING


def test_metrics_metadata_and_artifacts_round_trip(registry: ModelRegistry) -> None:
    registry.create_group(GROUP)
    metadata = {"git_sha": "0f3c2a1", "data_snapshot": "2026-11-26", "dbt_invocation_id": "7c1e-42"}
    metrics = {"auc": 0.8421, "pr_auc": 0.5, "log_loss": 0.3125, "test_rows": 12000}
    registered = registry.register(
        GROUP,
        "s3://bucket/models/7/model.tar.gz",
        "img:7",
        metrics,
        metadata,
        evaluation_url="s3://bucket/eval/evaluation.json",
    )
    got = registry.get(GROUP, registered.version)
    assert got == registered
    assert dict(got.metrics) == pytest.approx(metrics) and dict(got.metadata) == metadata
    assert (got.model_data_url, got.image_uri) == ("s3://bucket/models/7/model.tar.gz", "img:7")
    assert got.evaluation_url == "s3://bucket/eval/evaluation.json"
    assert got.arn.endswith(f"model-package/{GROUP}/{registered.version}")
    assert got.created_at.tzinfo is not None


def test_approval_keeps_metrics_and_metadata(registry: ModelRegistry) -> None:
    version = register(registry, auc=0.9)
    approved = registry.approve(GROUP, version, by="alice", reason="ok")
    assert dict(approved.metrics) == {"auc": 0.9} and dict(approved.metadata) == {"git_sha": "abc123"}


@pytest.mark.parametrize(
    ("metrics", "metadata", "message"),
    [
        ({}, {"note": "has, a comma"}, "cannot be stored as SageMaker customer metadata"),
        ({}, {"lakeml:metric:auc": "1"}, "reserves"),
        ({"auc": float("nan")}, {}, "finite numbers"),
        ({f"m{i}": 1.0 for i in range(30)}, {f"k{i}": "v" for i in range(20)}, "too many"),
    ],
)
def test_registration_sagemaker_would_refuse_is_refused(
    registry: ModelRegistry, metrics: dict, metadata: dict, message: str
) -> None:
    registry.create_group(GROUP)
    with pytest.raises(InvalidRegistration, match=message):
        registry.register(GROUP, "s3://b/m.tar.gz", "img:1", metrics, metadata)
    assert registry.list_versions(GROUP) == []


def test_invalid_group_names_are_refused(registry: ModelRegistry) -> None:
    with pytest.raises(InvalidRegistration, match="not valid on SageMaker"):
        registry.create_group("churn_model")


def test_unknown_group_is_named_with_how_to_list(registry: ModelRegistry) -> None:
    registry.create_group(GROUP)
    with pytest.raises(
        UnknownModelGroup, match=r"'nope' does not exist; groups: churn-test.*lakeml models list"
    ):
        registry.list_versions("nope")
    with pytest.raises(UnknownModelGroup):
        registry.register("nope", "s3://b/m.tar.gz", "img:1", {}, {})
    with pytest.raises(UnknownModelGroup):
        registry.champion("nope")


def test_unknown_version_is_named_with_how_to_list(registry: ModelRegistry) -> None:
    register(registry)
    with pytest.raises(
        UnknownModelVersion, match=rf"{GROUP}/5 does not exist.*versions 1-1.*--group {GROUP}"
    ):
        registry.get(GROUP, 5)
    with pytest.raises(UnknownModelVersion):
        registry.approve(GROUP, 5, by="alice", reason="ok")
    with pytest.raises(UnknownModelVersion):
        registry.history(GROUP, 5)


def test_an_evaluation_report_registers_its_scalar_metrics(registry: ModelRegistry) -> None:
    registry.create_group(GROUP)
    report = {
        "metrics": {
            "auc": {"value": 0.84},
            "pr_auc": {"value": 0.51},
            "rows": 1200,
            "calibration": [{"bin": 0, "count": 10}],
        },
        "champion": {"version": None, "auc": None},
        "gates": {"passed": True},
    }
    version = registry.register(GROUP, "s3://b/m.tar.gz", "img:1", report, {})
    assert dict(registry.get(GROUP, version.version).metrics) == {"auc": 0.84, "pr_auc": 0.51, "rows": 1200.0}
