"""The feature store contract, run against both adapters.

Local: SQLite online store + Parquet offline store in a temporary lake. SageMaker: moto for the control
plane (CreateFeatureGroup/DescribeFeatureGroup) and, for the runtime moto does not have (moto 5.2.5 has
no sagemaker-featurestore-runtime PutRecord/GetRecord), a botocore `Stubber` that answers PutRecord/GetRecord
by SageMaker's documented online-store rule (the newest event time per record id wins). Every request is
validated by botocore against the real API model before it reaches the stub, and every stubbed response is
validated by the Stubber against the output shape. The SageMaker adapter keeps its ingested event times as
marker objects in a lake (a local one here; the lake port has its own contract suite on S3).

Incremental ingestion (`ml_pipelines.feature_store.ingest`) is part of the contract: first write, a
re-run that writes nothing, a new day that writes only its records, an explicit backfill.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    ingest,
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
        self.local = threading.local()
        self.groups: dict[str, dict[str, Any]] = {}
        self.online: dict[tuple[str, str], tuple[float, list[dict[str, str]]]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.throttle_next = 0  # answer this many PutRecord calls with ThrottlingException first
        self.lock = threading.Lock()  # the adapter puts records from a thread pool

    def puts(self) -> int:
        return sum(1 for name, _ in self.calls if name == "PutRecord")

    def _assert_expected_params(
        self, model: Any, params: dict[str, Any], context: Any, **kwargs: Any
    ) -> None:
        # the API parameters (before-call only sees the wire form), per thread: calls come concurrently
        self.local.params = params

    def _get_response_handler(self, model: Any, params: dict[str, Any], context: Any, **kwargs: Any) -> Any:
        params = self.local.params
        with self.lock:
            self.calls.append((model.name, params))
            if model.name == "PutRecord" and self.throttle_next > 0:
                self.throttle_next -= 1
                error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
                return AWSResponse(None, 400, {}, None), error
            group = self.groups.get(params["FeatureGroupName"])
        if group is None:  # the control plane (moto) is not thread-safe: describe once, under the lock
            with self.lock:
                group = self.sagemaker.describe_feature_group(FeatureGroupName=params["FeatureGroupName"])
                self.groups[params["FeatureGroupName"]] = group
        return self._answer(model, params, group)

    def _answer(self, model: Any, params: dict[str, Any], group: dict[str, Any]) -> Any:
        types = {d["FeatureName"]: d["FeatureType"] for d in group["FeatureDefinitions"]}
        response: dict[str, Any] = {}
        if model.name == "PutRecord":
            values = {f["FeatureName"]: f["ValueAsString"] for f in params["Record"]}
            event_name = group["EventTimeFeatureName"]
            event_time = parse_event_time(values[event_name], types[event_name])
            key = (params["FeatureGroupName"], values[group["RecordIdentifierFeatureName"]])
            with self.lock:
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


STUB = pytest.StashKey[OnlineStoreStub]()


@contextmanager
def sagemaker_store(
    lake: LocalLake, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SageMakerFeatureStore, OnlineStoreStub]]:
    """The SageMaker adapter on moto's control plane and the runtime stub; its markers in `lake`."""
    import boto3
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="eu-west-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="eu-west-1")
        with OnlineStoreStub(runtime, sagemaker) as stub:
            yield (
                SageMakerFeatureStore(
                    sagemaker,
                    runtime,
                    "s3://lake/feature_store",
                    "arn:aws:iam::123456789012:role/sm",
                    lake=lake,
                    concurrency=4,
                    wait_seconds=0,
                ),
                stub,
            )


@pytest.fixture(params=["local", "sagemaker"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FeatureStore]:
    lake = LocalLake.create(tmp_path / "lake")
    if request.param == "local":
        yield LocalFeatureStore(lake, tmp_path / "state.db")
        return
    with sagemaker_store(lake, monkeypatch) as (adapter, stub):
        request.node.stash[STUB] = stub
        yield adapter


@pytest.fixture
def records_sent(store: FeatureStore, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], int]:
    """How many records were sent to the store so far: PutRecord calls on SageMaker, offline rows locally
    (every local put appends its records to the offline Parquet)."""
    if isinstance(store, SageMakerFeatureStore):
        stub = request.node.stash[STUB]
        return stub.puts
    folder = tmp_path / "lake" / "feature_store" / GROUP / "data"
    return lambda: ds.dataset(str(folder), format="parquet").count_rows() if folder.exists() else 0


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


# --- incremental ingestion -------------------------------------------------------------------------------

DAY1, DAY2, DAY3 = "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", "2026-11-15T00:00:00Z"


def snapshots(*days: str, segment: str = "s") -> pa.Table:
    """Three customers per snapshot day."""
    return rows(*((c, day, c, float(c), f"{segment}{c}") for day in days for c in (1, 2, 3)))


def test_first_ingestion_writes_every_event_time_and_marks_it(
    store: FeatureStore, records_sent: Callable[[], int]
) -> None:
    ensure(store)
    result = ingest(store, GROUP, snapshots(DAY1, DAY2))
    assert (result.written, result.skipped) == (6, 0)
    assert result.event_times_written == (DAY1, DAY2)
    assert store.ingested_event_times(GROUP) == {DAY1, DAY2}
    assert records_sent() == 6


def test_a_rerun_writes_nothing(store: FeatureStore, records_sent: Callable[[], int]) -> None:
    ensure(store)
    ingest(store, GROUP, snapshots(DAY1, DAY2))
    again = ingest(store, GROUP, snapshots(DAY1, DAY2))
    assert (again.written, again.skipped, again.event_times_written) == (0, 6, ())
    assert records_sent() == 6


def test_a_new_day_writes_only_its_records(store: FeatureStore, records_sent: Callable[[], int]) -> None:
    ensure(store)
    ingest(store, GROUP, snapshots(DAY1, DAY2))
    result = ingest(store, GROUP, snapshots(DAY1, DAY2, DAY3, segment="new"))
    assert (result.written, result.skipped, result.event_times_written) == (3, 6, (DAY3,))
    assert records_sent() == 9
    assert store.get_record(GROUP, 1)["segment"] == "new1"  # type: ignore[index]


def test_an_explicit_backfill_rewrites_what_the_store_has(
    store: FeatureStore, records_sent: Callable[[], int]
) -> None:
    ensure(store)
    ingest(store, GROUP, snapshots(DAY1, DAY2))
    result = ingest(store, GROUP, snapshots(DAY1, DAY2, segment="fixed"), backfill=True)
    assert (result.written, result.skipped, result.backfill) == (6, 0, True)
    assert records_sent() == 12
    assert store.get_record(GROUP, 2)["segment"] == "fixed2"  # type: ignore[index]
    assert ingest(store, GROUP, snapshots(DAY1, DAY2)).written == 0  # marked again: incremental after


def test_an_event_time_cut_off_by_a_crash_is_written_again_by_the_next_run(
    store: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure(store)
    put = store.put_records
    calls = []

    def crash_on_the_second_event_time(name: str, table: Any, spec: Any = None) -> int:
        calls.append(table.num_rows)
        if len(calls) == 2:
            put(name, table.slice(0, 1))  # part of its records made it in before the crash
            raise ConnectionError("process killed")
        return put(name, table)

    monkeypatch.setattr(store, "put_records", crash_on_the_second_event_time)
    with pytest.raises(ConnectionError):
        ingest(store, GROUP, snapshots(DAY1, DAY2))
    assert store.ingested_event_times(GROUP) == {DAY1}
    monkeypatch.undo()
    result = ingest(store, GROUP, snapshots(DAY1, DAY2))
    assert (result.written, result.event_times_written) == (3, (DAY2,))
    assert store.ingested_event_times(GROUP) == {DAY1, DAY2}


def test_numeric_event_times_are_marked_as_the_record_carries_them(store: FeatureStore) -> None:
    definitions = [FeatureDefinition("customer_id", "Integral"), FeatureDefinition("ts", "Fractional")]
    store.ensure_group(GROUP, definitions, "customer_id", "ts")
    table = pa.table({"customer_id": [1, 2, 3], "ts": [1.5e9, 1.5e9, 1.6e9]})
    assert ingest(store, GROUP, table).written == 3
    assert store.ingested_event_times(GROUP) == {"1500000000.0", "1600000000.0"}
    assert ingest(store, GROUP, table).written == 0


def test_sagemaker_retries_throttled_puts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SageMaker's half: a throttled PutRecord is retried (with backoff; none here) and the ingestion
    completes."""
    from tenacity import wait_none

    from ml_pipelines.feature_store import sagemaker as adapter

    monkeypatch.setattr(adapter.SageMakerFeatureStore._put_one.retry, "wait", wait_none())  # type: ignore[attr-defined]
    with sagemaker_store(LocalLake.create(tmp_path / "lake"), monkeypatch) as (store, stub):
        ensure(store)
        stub.throttle_next = 4
        result = ingest(store, GROUP, snapshots(DAY1, DAY2))
        assert result.written == 6 and stub.puts() == 6 + 4
        assert store.get_record(GROUP, 3)["segment"] == "s3"  # type: ignore[index]
