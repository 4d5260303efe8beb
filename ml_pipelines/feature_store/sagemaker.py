"""AWS adapter of the feature store: SageMaker Feature Store.

`CreateFeatureGroup` with an online and an offline store, `PutRecord` / `GetRecord` through
`sagemaker-featurestore-runtime`. SageMaker applies the same latest-by-event-time rule to its online store
as the local adapter, and appends every record to the offline store. Records are encoded and validated by
the shared `records`/`rules` modules before anything is sent.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from lakeml.core.errors import LakemlError
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


class SageMakerFeatureStore:
    """`sagemaker` and `runtime` are clients from `lakeml.core.aws.client` (`sagemaker`,
    `sagemaker-featurestore-runtime`); `offline_s3_uri` is where the offline store writes; `role_arn`
    (settings.aws.sagemaker_role_arn, passed by the wiring) is the role SageMaker uses to write it,
    needed only to create a group."""

    def __init__(
        self,
        sagemaker: Any,
        runtime: Any,
        offline_s3_uri: str,
        role_arn: str | None,
        *,
        wait_seconds: float = 300,
    ) -> None:
        self.sm = sagemaker
        self.runtime = runtime
        self.offline_s3_uri = offline_s3_uri.rstrip("/")
        self.role_arn = role_arn
        self.wait_seconds = wait_seconds
        self._groups: dict[str, FeatureGroup] = {}

    def _describe(self, name: str) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], self.sm.describe_feature_group(FeatureGroupName=name))
        except self.sm.exceptions.ResourceNotFound:
            raise unknown_group(name, []) from None

    def _group(self, name: str) -> FeatureGroup:
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
        group = self._group(name)
        records = list(encode_rows(group, table))
        for record in records:  # PutRecord has no batch form; the runtime takes one record per call
            self.runtime.put_record(FeatureGroupName=name, Record=record)
        return len(records)

    def get_record(self, name: str, record_id: str | int) -> dict[str, Any] | None:
        group = self._group(name)
        try:
            response = self.runtime.get_record(
                FeatureGroupName=name, RecordIdentifierValueAsString=str(record_id)
            )
        except self.runtime.exceptions.ResourceNotFound:  # the group exists (described above): no such record
            return None
        record = response.get("Record")  # absent when the id has no record
        return decode_record(group, record) if record else None

    def offline_path(self, name: str) -> str:
        config = self._describe(name).get("OfflineStoreConfig") or {}
        storage = config.get("S3StorageConfig") or {}
        return cast(str, storage.get("ResolvedOutputS3Uri") or storage["S3Uri"])
