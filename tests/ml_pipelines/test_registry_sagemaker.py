"""SageMaker registry behaviour beyond the shared contract: packages the pipeline registers itself,
decisions made outside lakeml, where the history lives, and how the wiring builds it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.errors import ConfigError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters
from ml_pipelines.registry import APPROVED, PENDING, REJECTED
from ml_pipelines.registry.sagemaker import SageMakerModelRegistry
from ml_pipelines.registry.sqlite import SqliteModelRegistry

GROUP = "lakeml-churn"
BUCKET = "lake"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    import boto3
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        sm = boto3.client("sagemaker", region_name="eu-west-1")
        yield {"sm": sm, "s3": s3, "registry": SageMakerModelRegistry(sm, s3, BUCKET)}


def register_like_the_pipeline(aws: dict[str, Any]) -> str:
    """What the pipeline's RegisterModel step sends: metrics only as a pointer to evaluation.json."""
    aws["s3"].put_object(
        Bucket=BUCKET,
        Key="pipelines/run-1/evaluation/evaluation.json",
        Body=json.dumps(
            {"metrics": {"auc": {"value": 0.86}, "log_loss": {"value": 0.31}}, "gates": {"passed": True}}
        ),
    )
    aws["registry"].create_group(GROUP)
    return aws["sm"].create_model_package(
        ModelPackageGroupName=GROUP,
        InferenceSpecification={
            "Containers": [{"Image": "img:1", "ModelDataUrl": "s3://lake/models/m.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus="PendingManualApproval",
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": "s3://lake/pipelines/run-1/evaluation/evaluation.json",
                }
            }
        },
        CustomerMetadataProperties={"git_sha": "0f3c2a1", "data_snapshot": "2026-11-26"},
    )["ModelPackageArn"]


def test_a_pipeline_registered_package_reads_metrics_from_its_evaluation_report(aws: dict[str, Any]) -> None:
    register_like_the_pipeline(aws)
    version = aws["registry"].get(GROUP, 1)
    assert version.status == PENDING
    assert dict(version.metrics) == {"auc": 0.86, "log_loss": 0.31}
    assert dict(version.metadata) == {"git_sha": "0f3c2a1", "data_snapshot": "2026-11-26"}
    assert version.evaluation_url == "s3://lake/pipelines/run-1/evaluation/evaluation.json"
    assert version.model_data_url == "s3://lake/models/m.tar.gz"


def test_approval_keeps_the_pipelines_metadata_and_adds_who_and_when(aws: dict[str, Any]) -> None:
    arn = register_like_the_pipeline(aws)
    aws["registry"].approve(GROUP, 1, by="alice@example.com", reason="AUC 0.86, calibrated")
    described = aws["sm"].describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == APPROVED
    assert described["ApprovalDescription"] == "AUC 0.86, calibrated"
    properties = described["CustomerMetadataProperties"]
    assert properties["git_sha"] == "0f3c2a1" and properties["lakeml:status-by"] == "alice@example.com"


def test_history_is_an_append_only_log_in_the_lake_bucket(aws: dict[str, Any]) -> None:
    register_like_the_pipeline(aws)
    aws["registry"].approve(GROUP, 1, by="alice", reason="ok")
    aws["registry"].reject(GROUP, 1, by="bob", reason="drift")
    body = aws["s3"].get_object(Bucket=BUCKET, Key=f"registry/{GROUP}/1/approvals.json")["Body"].read()
    assert [(e["from_status"], e["to_status"], e["by"]) for e in json.loads(body)] == [
        (PENDING, APPROVED, "alice"),
        (APPROVED, REJECTED, "bob"),
    ]


def test_a_decision_made_outside_lakeml_still_shows_in_the_history(aws: dict[str, Any]) -> None:
    arn = register_like_the_pipeline(aws)
    aws["registry"].approve(GROUP, 1, by="alice", reason="ok")
    aws["sm"].update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Rejected",
        ApprovalDescription="rejected in the console",
        CustomerMetadataProperties={"git_sha": "0f3c2a1"},
    )
    history = aws["registry"].history(GROUP, 1)
    assert [(e.from_status, e.to_status) for e in history] == [(PENDING, APPROVED), (APPROVED, REJECTED)]
    assert history[-1].reason == "rejected in the console" and history[-1].by  # moto's fake user profile
    # the next lakeml decision keeps the outside one in the log
    aws["registry"].approve(GROUP, 1, by="carol", reason="re-approved")
    assert [e.by for e in aws["registry"].history(GROUP, 1)][-1] == "carol"
    assert len(aws["registry"].history(GROUP, 1)) == 3


def test_the_wiring_picks_sqlite_locally(home: Path) -> None:
    registry = adapters(load_settings()).registry
    assert isinstance(registry, SqliteModelRegistry) and registry.path == home / "state.db"


def test_the_wiring_picks_sagemaker_on_aws(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEML_ENV", "aws")
    monkeypatch.setenv("LAKEML_AWS__LAKE_BUCKET", "my-lake")
    registry = adapters(load_settings()).registry
    assert isinstance(registry, SageMakerModelRegistry) and registry.bucket == "my-lake"
    monkeypatch.delenv("LAKEML_AWS__LAKE_BUCKET")
    with pytest.raises(ConfigError, match="lake_bucket"):
        _ = adapters(load_settings()).registry
