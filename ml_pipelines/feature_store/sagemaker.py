"""AWS adapter of the feature store: SageMaker Feature Store.

`CreateFeatureGroup` with an online and an offline store, `PutRecord` / `GetRecord` through
`sagemaker-featurestore-runtime`. SageMaker applies the same latest-by-event-time rule to its online store
as the local adapter, and appends every record to the offline store. Records are encoded and validated by
the shared `records`/`rules` modules before anything is sent.

PutRecord takes one record per call, so records go out in batches over a bounded thread pool
(`concurrency`, settings.aws.feature_store_concurrency); a throttled call is retried with exponential
backoff and jitter (tenacity, on top of botocore's own standard retries), and progress is logged. Which
event times are fully ingested is kept in marker objects in the lake (`markers`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any, cast

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from lakeml.core.aws import error_code
from lakeml.core.errors import LakemlError
from ml_pipelines.feature_store.markers import IngestedMarkers
from ml_pipelines.feature_store.port import (
    FeatureDefinition,
    FeatureGroup,
    FeatureStoreError,
    SchemaLike,
    UnknownFeatureGroup,
)
from ml_pipelines.feature_store.records import decode_record, encode_rows
from ml_pipelines.feature_store.rules import check_group, definitions_from_spec, mismatch, unknown_group

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from lakeml.core.lake import LakeStorage
    from ml_pipelines.feature_store.port import Record

log = logging.getLogger(__name__)
BATCH = 1_000  # records handed to the pool at a time (bounds memory; progress is logged per batch)
PROGRESS_EVERY_S = 5.0
THROTTLED = frozenset({"ThrottlingException", "Throttling", "ServiceUnavailable", "InternalFailure"})
PUT_ATTEMPTS = 6


def throttled(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLED


class SageMakerFeatureStore:
    """`sagemaker` and `runtime` are clients from `lakeml.core.aws.client` (`sagemaker`,
    `sagemaker-featurestore-runtime`); `offline_s3_uri` is where the offline store writes; `role_arn`
    (settings.aws.sagemaker_role_arn, passed by the wiring) is the role SageMaker uses to write it,
    needed only to create a group. `lake` keeps the markers of ingested event times; `concurrency`
    bounds the PutRecord calls in flight."""

    def __init__(
        self,
        sagemaker: Any,
        runtime: Any,
        offline_s3_uri: str,
        role_arn: str | None,
        *,
        lake: LakeStorage | None = None,
        concurrency: int = 8,
        wait_seconds: float = 300,
    ) -> None:
        self.sm = sagemaker
        self.runtime = runtime
        self.offline_s3_uri = offline_s3_uri.rstrip("/")
        self.role_arn = role_arn
        self.markers = IngestedMarkers(lake) if lake is not None else None
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self._groups: dict[str, FeatureGroup] = {}

    def _describe(self, name: str) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], self.sm.describe_feature_group(FeatureGroupName=name))
        except self.sm.exceptions.ResourceNotFound:
            raise unknown_group(name, []) from None

    def describe_group(self, name: str) -> FeatureGroup:
        if name not in self._groups:
            self._groups[name] = FeatureGroup.from_api(self._describe(name))
        return self._groups[name]

    def ensure_group(
        self, name: str, definitions: Sequence[FeatureDefinition], record_id: str, event_time: str
    ) -> FeatureGroup:
        wanted = FeatureGroup(name, tuple(definitions), record_id, event_time)
        check_group(wanted)
        if self.role_arn:
            with contextlib.suppress(self.sm.exceptions.ResourceInUse):  # exists: compared below
                self.sm.create_feature_group(
                    FeatureGroupName=name,
                    RecordIdentifierFeatureName=record_id,
                    EventTimeFeatureName=event_time,
                    FeatureDefinitions=[d.to_api() for d in wanted.definitions],
                    OnlineStoreConfig={"EnableOnlineStore": True},
                    OfflineStoreConfig={"S3StorageConfig": {"S3Uri": self.offline_s3_uri}},
                    RoleArn=self.role_arn,
                    Description=f"lakeml features: record id {record_id}, event time {event_time}",
                )
        else:  # without a role the group can only be used, not created
            try:
                self._describe(name)
            except UnknownFeatureGroup:
                raise FeatureStoreError(
                    f"feature group {name} does not exist and creating it needs the role its offline store "
                    "writes with; set LAKEML_AWS__SAGEMAKER_ROLE_ARN (the SageMaker execution role from infra)"
                ) from None
        described = self._wait_created(name)
        existing = FeatureGroup.from_api(described)
        if existing != wanted:
            raise mismatch(existing, wanted)
        self._groups[name] = existing
        return existing

    def _wait_created(self, name: str) -> dict[str, Any]:
        """A new group is `Creating` for a while; PutRecord fails until it is `Created`."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            described = self._describe(name)
            status = described.get("FeatureGroupStatus", "Created")
            if status == "Created":
                return described
            if status in ("CreateFailed", "Deleting", "DeleteFailed"):
                raise LakemlError(
                    f"feature group {name} is {status}: {described.get('FailureReason', 'no reason given')}; "
                    "fix the cause (often the role's S3/Glue permissions), delete the group and re-run"
                )
            if time.monotonic() > deadline:
                raise LakemlError(
                    f"feature group {name} still {status} after {self.wait_seconds:.0f} s; re-run later"
                )
            time.sleep(5)

    def put_records(self, name: str, table: pa.Table | pd.DataFrame, spec: SchemaLike | None = None) -> int:
        if spec is not None:
            self.ensure_group(name, *definitions_from_spec(spec))
        group = self.describe_group(name)
        records = list(encode_rows(group, table))  # validate everything before writing anything
        self._put_all(name, records)
        return len(records)

    def _put_all(self, name: str, records: list[Record]) -> None:
        """PutRecord has no batch form: batches of records over `concurrency` threads (boto3 clients are
        thread-safe), progress logged every few seconds."""
        done, last = 0, time.monotonic()
        stream = iter(records)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="put-record") as pool:
            while batch := list(islice(stream, BATCH)):
                for _ in pool.map(lambda record: self._put_one(name, record), batch):
                    done += 1
                if time.monotonic() - last >= PROGRESS_EVERY_S or done == len(records):
                    log.info("feature group %s: %d/%d records put", name, done, len(records))
                    last = time.monotonic()

    @retry(
        retry=retry_if_exception(throttled),
        wait=wait_random_exponential(multiplier=0.5, max=20),
        stop=stop_after_attempt(PUT_ATTEMPTS),
        reraise=True,
    )
    def _put_one(self, name: str, record: Record) -> None:
        self.runtime.put_record(FeatureGroupName=name, Record=record)

    def get_record(self, name: str, record_id: str | int) -> dict[str, Any] | None:
        group = self.describe_group(name)
        try:
            response = self.runtime.get_record(
                FeatureGroupName=name, RecordIdentifierValueAsString=str(record_id)
            )
        except self.runtime.exceptions.ResourceNotFound:  # the group exists (described above): no such record
            return None
        record = response.get("Record")  # absent when the id has no record
        return decode_record(group, record) if record else None

    def ingested_event_times(self, name: str) -> frozenset[str]:
        self.describe_group(name)
        return self._markers().event_times(name)

    def mark_ingested(self, name: str, counts: Mapping[str, int]) -> None:
        self._markers().mark(name, counts)

    def _markers(self) -> IngestedMarkers:
        if self.markers is None:
            raise LakemlError(
                "this SageMaker feature store was built without a lake to keep its ingested event times; "
                "build it through lakeml.wiring (adapters(settings).feature_store)"
            )
        return self.markers

    def offline_path(self, name: str) -> str:
        config = self._describe(name).get("OfflineStoreConfig") or {}
        storage = config.get("S3StorageConfig") or {}
        return cast(str, storage.get("ResolvedOutputS3Uri") or storage["S3Uri"])
