"""The SageMaker feature store adapter's requests, pinned with botocore's Stubber (which validates every
request and response against the real API model): what PutRecord/GetRecord/CreateFeatureGroup carry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
from botocore.stub import Stubber

from lakeml.core.errors import LakemlError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters
from ml_pipelines.feature_store import FeatureDefinition, FeatureStoreError, UnknownFeatureGroup
from ml_pipelines.feature_store.local import LocalFeatureStore
from ml_pipelines.feature_store.sagemaker import SageMakerFeatureStore

GROUP = "lakeml-customer-features"
ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution"
DEFINITIONS = [
    FeatureDefinition("customer_id", "Integral"),
    FeatureDefinition("snapshot_date", "String"),
    FeatureDefinition("spend_90d", "Fractional"),
    FeatureDefinition("region", "String"),
]
DESCRIBED = {
    "FeatureGroupArn": f"arn:aws:sagemaker:eu-west-1:123456789012:feature-group/{GROUP}",
    "FeatureGroupName": GROUP,
    "RecordIdentifierFeatureName": "customer_id",
    "EventTimeFeatureName": "snapshot_date",
    "FeatureDefinitions": [d.to_api() for d in DEFINITIONS],
    "CreationTime": "2026-11-27T00:00:00Z",
    "FeatureGroupStatus": "Created",
    "NextToken": "",  # required by the DescribeFeatureGroup output shape
    "OfflineStoreConfig": {
        "S3StorageConfig": {
            "S3Uri": "s3://lake/feature_store",
            "ResolvedOutputS3Uri": f"s3://lake/feature_store/123456789012/sagemaker/eu-west-1/offline-store/{GROUP}/data",
        }
    },
}


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Stubber, Stubber]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    sm = boto3.client("sagemaker", region_name="eu-west-1")
    runtime = boto3.client("sagemaker-featurestore-runtime", region_name="eu-west-1")
    with Stubber(sm) as sm_stub, Stubber(runtime) as runtime_stub:
        yield sm, runtime, sm_stub, runtime_stub
        sm_stub.assert_no_pending_responses()
        runtime_stub.assert_no_pending_responses()


def store(clients: tuple[Any, Any, Stubber, Stubber], role: str | None = ROLE) -> SageMakerFeatureStore:
    sm, runtime, _, _ = clients
    return SageMakerFeatureStore(sm, runtime, "s3://lake/feature_store", role, wait_seconds=30)


def test_ensure_group_creates_online_and_offline_stores(clients) -> None:
    _, _, sm_stub, _ = clients
    sm_stub.add_response(
        "create_feature_group",
        {"FeatureGroupArn": DESCRIBED["FeatureGroupArn"]},
        {
            "FeatureGroupName": GROUP,
            "RecordIdentifierFeatureName": "customer_id",
            "EventTimeFeatureName": "snapshot_date",
            "FeatureDefinitions": [d.to_api() for d in DEFINITIONS],
            "OnlineStoreConfig": {"EnableOnlineStore": True},
            "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://lake/feature_store"}},
            "RoleArn": ROLE,
            "Description": "lakeml features: record id customer_id, event time snapshot_date",
        },
    )
    sm_stub.add_response("describe_feature_group", DESCRIBED, {"FeatureGroupName": GROUP})
    group = store(clients).ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")
    assert group.types["spend_90d"] == "Fractional"


def test_ensure_group_waits_while_the_group_is_creating(clients, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, sm_stub, _ = clients
    sleeps: list[float] = []
    monkeypatch.setattr("ml_pipelines.feature_store.sagemaker.time.sleep", sleeps.append)
    sm_stub.add_response("create_feature_group", {"FeatureGroupArn": DESCRIBED["FeatureGroupArn"]})
    sm_stub.add_response("describe_feature_group", {**DESCRIBED, "FeatureGroupStatus": "Creating"})
    sm_stub.add_response("describe_feature_group", DESCRIBED)
    store(clients).ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")
    assert sleeps == [5]


def test_a_failed_creation_names_the_reason(clients) -> None:
    _, _, sm_stub, _ = clients
    sm_stub.add_response("create_feature_group", {"FeatureGroupArn": DESCRIBED["FeatureGroupArn"]})
    failed = {**DESCRIBED, "FeatureGroupStatus": "CreateFailed", "FailureReason": "AccessDenied on s3://lake"}
    sm_stub.add_response("describe_feature_group", failed)
    with pytest.raises(LakemlError, match="CreateFailed: AccessDenied on s3://lake"):
        store(clients).ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")


def test_without_a_role_a_missing_group_cannot_be_created(clients) -> None:
    _, _, sm_stub, _ = clients
    sm_stub.add_client_error("describe_feature_group", "ResourceNotFound", "not found")
    with pytest.raises(FeatureStoreError, match="LAKEML_AWS__SAGEMAKER_ROLE_ARN"):
        store(clients, role=None).ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")


def test_put_records_sends_one_put_record_per_row_as_strings(clients) -> None:
    _, _, sm_stub, runtime_stub = clients
    sm_stub.add_response("describe_feature_group", DESCRIBED, {"FeatureGroupName": GROUP})
    expected = [
        [
            {"FeatureName": "customer_id", "ValueAsString": "1"},
            {"FeatureName": "snapshot_date", "ValueAsString": "2026-11-01T00:00:00Z"},
            {"FeatureName": "spend_90d", "ValueAsString": "120.5"},
            {"FeatureName": "region", "ValueAsString": "north"},
        ],
        [  # nulls are left out of the record
            {"FeatureName": "customer_id", "ValueAsString": "2"},
            {"FeatureName": "snapshot_date", "ValueAsString": "2026-11-02T00:00:00Z"},
        ],
    ]
    for record in expected:
        runtime_stub.add_response("put_record", {}, {"FeatureGroupName": GROUP, "Record": record})
    table = pa.table(
        {
            "customer_id": [1, 2],
            "snapshot_date": [date(2026, 11, 1), date(2026, 11, 2)],
            "spend_90d": [120.5, None],
            "region": ["north", None],
        }
    )
    assert store(clients).put_records(GROUP, table) == 2


def test_get_record_types_values_by_the_definitions(clients) -> None:
    _, _, sm_stub, runtime_stub = clients
    sm_stub.add_response("describe_feature_group", DESCRIBED)
    runtime_stub.add_response(
        "get_record",
        {
            "Record": [
                {"FeatureName": "customer_id", "ValueAsString": "7"},
                {"FeatureName": "snapshot_date", "ValueAsString": "2026-11-01T00:00:00Z"},
                {"FeatureName": "spend_90d", "ValueAsString": "3.25"},
            ]
        },
        {"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": "7"},
    )
    runtime_stub.add_response(
        "get_record", {}, {"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": "8"}
    )
    fs = store(clients)
    assert fs.get_record(GROUP, 7) == {
        "customer_id": 7,
        "snapshot_date": "2026-11-01T00:00:00Z",
        "spend_90d": 3.25,
    }
    assert fs.get_record(GROUP, 8) is None


def test_an_unknown_group_is_named(clients) -> None:
    _, _, sm_stub, _ = clients
    sm_stub.add_client_error("describe_feature_group", "ResourceNotFound", "Resource Not Found")
    with pytest.raises(UnknownFeatureGroup, match=f"feature group '{GROUP}' does not exist"):
        store(clients).get_record(GROUP, 1)


def test_offline_path_is_where_sagemaker_writes(clients) -> None:
    _, _, sm_stub, _ = clients
    sm_stub.add_response("describe_feature_group", DESCRIBED)
    assert store(clients).offline_path(GROUP).endswith(f"/offline-store/{GROUP}/data")


def test_create_feature_group_request_is_accepted_by_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="eu-west-1")
        fs = SageMakerFeatureStore(sm, None, "s3://lake/feature_store", ROLE, wait_seconds=0)
        fs.ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")
        assert fs.offline_path(GROUP).startswith("s3://lake/feature_store/")


def test_the_wiring_picks_the_local_store(home: Path) -> None:
    store = adapters(load_settings()).feature_store
    assert isinstance(store, LocalFeatureStore) and store.db_path == home / "state.db"
    assert store.lake.root == str(home / "lake")


def test_the_wiring_picks_sagemaker_on_aws(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEML_ENV", "aws")
    monkeypatch.setenv("LAKEML_AWS__LAKE_BUCKET", "my-lake")
    monkeypatch.setenv("LAKEML_AWS__SAGEMAKER_ROLE_ARN", ROLE)
    store = adapters(load_settings()).feature_store
    assert isinstance(store, SageMakerFeatureStore)
    assert (store.offline_s3_uri, store.role_arn) == ("s3://my-lake/feature_store", ROLE)
