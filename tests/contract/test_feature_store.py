"""The feature store contract, run against both adapters.

Local: SQLite online store + Parquet offline store in a temporary lake. SageMaker: moto for the control
plane (CreateFeatureGroup/DescribeFeatureGroup) and, for the runtime moto does not have, a botocore
`Stubber` that answers PutRecord/GetRecord by SageMaker's documented online-store rule (the newest event
time per record id wins). Every request is validated by botocore against the real API model before it
reaches the stub, and every stubbed response is validated by the Stubber against the output shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from lakeml.core.lake.local import LocalLake
from ml_pipelines.feature_store import (
    FeatureDefinition,
    FeatureGroupMismatch,
    FeatureStore,
    FeatureStoreError,
    parse_event_time,
)
from ml_pipelines.feature_store.local import LocalFeatureStore
from ml_pipelines.feature_store.sagemaker import SageMakerFeatureStore

GROUP = "customer-features-test"
DEFINITIONS = [
    FeatureDefinition("customer_id", "Integral"),
    FeatureDefinition("snapshot_date", "String"),
    FeatureDefinition("orders_90d", "Integral"),
    FeatureDefinition("spend_90d", "Fractional"),
    FeatureDefinition("segment", "String"),
]


class OnlineStoreStub(Stubber):
    """`sagemaker-featurestore-runtime` as SageMaker documents it, on top of botocore's Stubber: the online
    store keeps per record id the record with the newest event time (a tie goes to the later write)."""

    def __init__(self, client: Any, sagemaker: Any) -> None:
        super().__init__(client)
        self.sagemaker = sagemaker
        self.online: dict[tuple[str, str], tuple[float, list[dict[str, str]]]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _assert_expected_params(
        self, model: Any, params: dict[str, Any], context: Any, **kwargs: Any
    ) -> None:
        self.calls.append((model.name, params))  # the API parameters; before-call only sees the wire form

    def _get_response_handler(self, model: Any, params: dict[str, Any], context: Any, **kwargs: Any) -> Any:
        name, params = self.calls[-1]
        assert name == model.name
        group = self.sagemaker.describe_feature_group(FeatureGroupName=params["FeatureGroupName"])
        types = {d["FeatureName"]: d["FeatureType"] for d in group["FeatureDefinitions"]}
        response: dict[str, Any] = {}
        if model.name == "PutRecord":
            values = {f["FeatureName"]: f["ValueAsString"] for f in params["Record"]}
            event_name = group["EventTimeFeatureName"]
            event_time = parse_event_time(values[event_name], types[event_name])
            key = (params["FeatureGroupName"], values[group["RecordIdentifierFeatureName"]])
            if key not in self.online or event_time >= self.online[key][0]:
                self.online[key] = (event_time, params["Record"])
        elif model.name == "GetRecord":
            key = (params["FeatureGroupName"], params["RecordIdentifierValueAsString"])
            if key in self.online:
                response = {"Record": self.online[key][1]}
        else:
            raise AssertionError(f"unexpected runtime call {model.name}")
        self._validate_operation_response(model.name, response)
        return AWSResponse(None, 200, {}, None), response


@pytest.fixture(params=["local", "sagemaker"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FeatureStore]:
    if request.param == "local":
        lake = LocalLake.create(tmp_path / "lake")
        yield LocalFeatureStore(lake, tmp_path / "state.db")
        return
    import boto3
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="eu-west-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="eu-west-1")
        with OnlineStoreStub(runtime, sagemaker):
            yield SageMakerFeatureStore(
                sagemaker,
                runtime,
                "s3://lake/feature_store",
                "arn:aws:iam::123456789012:role/sm",
                wait_seconds=0,
            )


def rows(*records: tuple[int, str, int, float | None, str | None]) -> pa.Table:
    names = [d.name for d in DEFINITIONS]
    return pa.table(
        {n: [r[i] for r in records] for i, n in enumerate(names)},
        schema=pa.schema(
            [
                ("customer_id", pa.int64()),
                ("snapshot_date", pa.string()),
                ("orders_90d", pa.int64()),
                ("spend_90d", pa.float64()),
                ("segment", pa.string()),
            ]
        ),
    )


def ensure(store: FeatureStore) -> None:
    store.ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")


def test_a_record_reads_back_with_its_types(store: FeatureStore) -> None:
    ensure(store)
    assert store.put_records(GROUP, rows((1, "2026-11-01T00:00:00Z", 3, 120.5, "gold"))) == 1
    assert store.get_record(GROUP, 1) == {
        "customer_id": 1,
        "snapshot_date": "2026-11-01T00:00:00Z",
        "orders_90d": 3,
        "spend_90d": 120.5,
        "segment": "gold",
    }


def test_an_unknown_record_id_reads_as_none(store: FeatureStore) -> None:
    ensure(store)
    store.put_records(GROUP, rows((1, "2026-11-01T00:00:00Z", 3, 1.0, "a")))
    assert store.get_record(GROUP, 2) is None


def test_online_keeps_the_record_with_the_latest_event_time(store: FeatureStore) -> None:
    ensure(store)
    store.put_records(GROUP, rows((1, "2026-11-02T00:00:00Z", 5, 50.0, "new")))
    store.put_records(GROUP, rows((1, "2026-11-01T00:00:00Z", 4, 40.0, "old")))  # late, older snapshot
    record = store.get_record(GROUP, 1)
    assert record is not None and record["segment"] == "new"
    store.put_records(GROUP, rows((1, "2026-11-03T00:00:00.250Z", 6, 60.0, "newest")))
    record = store.get_record(GROUP, 1)
    assert record is not None and record["segment"] == "newest"


def test_latest_wins_within_one_batch_whatever_the_order(store: FeatureStore) -> None:
    ensure(store)
    store.put_records(
        GROUP,
        rows(
            (1, "2026-11-03T00:00:00Z", 3, 3.0, "third"),
            (1, "2026-11-01T00:00:00Z", 1, 1.0, "first"),
            (2, "2026-11-01T00:00:00Z", 1, 1.0, "only"),
        ),
    )
    assert store.get_record(GROUP, 1)["segment"] == "third"  # type: ignore[index]
    assert store.get_record(GROUP, 2)["segment"] == "only"  # type: ignore[index]


def test_missing_values_are_left_out_of_the_record(store: FeatureStore) -> None:
    ensure(store)
    store.put_records(GROUP, rows((1, "2026-11-01T00:00:00Z", 2, None, None)))
    assert store.get_record(GROUP, 1) == {
        "customer_id": 1,
        "snapshot_date": "2026-11-01T00:00:00Z",
        "orders_90d": 2,
    }


def test_date_and_timestamp_event_times_are_written_as_iso_8601(store: FeatureStore) -> None:
    store.ensure_group(GROUP, DEFINITIONS[:3], "customer_id", "snapshot_date")
    store.put_records(
        GROUP,
        pa.table(
            {
                "customer_id": [1, 2],
                "snapshot_date": [date(2026, 11, 1), date(2026, 11, 2)],
                "orders_90d": [1, 2],
            }
        ),
    )
    store.put_records(
        GROUP,
        pa.table(
            {
                "customer_id": [3],
                "snapshot_date": [datetime(2026, 11, 2, 6, 30, tzinfo=UTC)],
                "orders_90d": [3],
            }
        ),
    )
    assert store.get_record(GROUP, 2)["snapshot_date"] == "2026-11-02T00:00:00Z"  # type: ignore[index]
    assert store.get_record(GROUP, 3)["snapshot_date"] == "2026-11-02T06:30:00Z"  # type: ignore[index]


def test_ensure_group_is_idempotent(store: FeatureStore) -> None:
    first = store.ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")
    again = store.ensure_group(GROUP, DEFINITIONS, "customer_id", "snapshot_date")
    assert first == again and again.record_id == "customer_id"


def test_ensure_group_refuses_changed_definitions(store: FeatureStore) -> None:
    ensure(store)
    changed = [*DEFINITIONS[:3], FeatureDefinition("spend_90d", "String")]
    with pytest.raises(
        FeatureGroupMismatch, match=r"drops segment; changes spend_90d Fractional -> String.*-v2"
    ):
        store.ensure_group(GROUP, changed, "customer_id", "snapshot_date")


@pytest.mark.parametrize(
    ("definitions", "record_id", "event_time", "message"),
    [
        (DEFINITIONS, "customer_id", "orders_90d", "must be a String .* or Fractional"),
        (DEFINITIONS, "id", "snapshot_date", "record identifier 'id' is not one of"),
        (
            [*DEFINITIONS, FeatureDefinition("write_time", "String")],
            "customer_id",
            "snapshot_date",
            "not valid",
        ),
        (
            [*DEFINITIONS, FeatureDefinition("bad name", "String")],
            "customer_id",
            "snapshot_date",
            "not valid",
        ),
    ],
)
def test_groups_sagemaker_would_refuse_are_refused(
    store: FeatureStore, definitions: list[FeatureDefinition], record_id: str, event_time: str, message: str
) -> None:
    with pytest.raises(FeatureStoreError, match=message):
        store.ensure_group(GROUP, definitions, record_id, event_time)


def test_records_sagemaker_would_refuse_are_refused_before_any_write(store: FeatureStore) -> None:
    ensure(store)
    good = (1, "2026-11-01T00:00:00Z", 1, 1.0, "ok")
    with pytest.raises(FeatureStoreError, match="not ISO-8601"):
        store.put_records(GROUP, rows(good, (2, "01/11/2026", 1, 1.0, "bad")))
    with pytest.raises(FeatureStoreError, match="churned are not features"):
        store.put_records(GROUP, rows(good).append_column("churned", pa.array([True])))
    with pytest.raises(FeatureStoreError, match="has no snapshot_date"):
        store.put_records(GROUP, rows(good, (2, None, 1, 1.0, "x")))  # type: ignore[arg-type]
    assert store.get_record(GROUP, 1) is None


def test_put_records_with_a_spec_creates_the_group(store: FeatureStore) -> None:
    from ml_pipelines.features import Column, FeatureSpec

    spec = FeatureSpec(
        id_column="customer_id",
        event_time_column="snapshot_date",
        label_column="",
        features=("orders_90d",),
        columns=(
            Column("customer_id", "bigint", "id"),
            Column("snapshot_date", "date", "event_time"),
            Column("orders_90d", "int", "feature"),
        ),
    )
    table = pa.table({"customer_id": [7], "snapshot_date": [date(2026, 11, 1)], "orders_90d": [4]})
    assert store.put_records(GROUP, table.to_pandas(), spec) == 1
    assert store.get_record(GROUP, 7) == {
        "customer_id": 7,
        "snapshot_date": "2026-11-01T00:00:00Z",
        "orders_90d": 4,
    }


def test_local_offline_store_keeps_every_record(tmp_path: Path) -> None:
    """Offline on AWS is S3 written by SageMaker itself; this is the local twin's half of the contract."""
    lake = LocalLake.create(tmp_path / "lake")
    store = LocalFeatureStore(lake, tmp_path / "state.db")
    ensure(store)
    store.put_records(
        GROUP, rows((1, "2026-11-02T00:00:00Z", 5, 50.0, "new"), (2, "2026-11-02T00:00:00Z", 1, 1.0, "b"))
    )
    store.put_records(GROUP, rows((1, "2026-11-01T00:00:00Z", 4, 40.0, "old")))
    path = store.offline_path(GROUP)
    assert path == (tmp_path / "lake" / "feature_store" / GROUP / "data").as_uri()
    offline = ds.dataset(
        str(tmp_path / "lake" / "feature_store" / GROUP / "data"), format="parquet"
    ).to_table()
    assert sorted(offline.column("segment").to_pylist()) == ["b", "new", "old"]
    assert offline.schema.field("customer_id").type == pa.int64()
    assert offline.schema.field("spend_90d").type == pa.float64()
    assert set(offline.column_names) >= {"write_time", "api_invocation_time", "is_deleted"}
    assert not any(offline.column("is_deleted").to_pylist())
