"""The feature store port: the latest features of every customer for serving, and every record ever
written for training — SageMaker Feature Store semantics.

`FeatureStore` is the Protocol both adapters implement (`local.LocalFeatureStore`: online SQLite +
offline Parquet in the lake; `sagemaker.SageMakerFeatureStore`: SageMaker Feature Store). The value types
(`FeatureGroup`, `FeatureDefinition`, SageMaker's `Record` shape) and the errors live here, so a caller
needs this module and no adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from lakeml.core.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

FeatureType = Literal["Integral", "Fractional", "String"]
FEATURE_TYPES: tuple[FeatureType, ...] = get_args(FeatureType)
Record = list[dict[str, str]]  # SageMaker's record: [{"FeatureName": …, "ValueAsString": …}, …]


class FeatureStoreError(UsageError):
    """A group, feature or record SageMaker Feature Store would refuse (exit 2: fix the input)."""


class UnknownFeatureGroup(FeatureStoreError):
    """The feature group does not exist (SageMaker: ResourceNotFound)."""


class FeatureGroupMismatch(FeatureStoreError):
    """The group exists with other features, record identifier or event time."""


@dataclass(frozen=True)
class FeatureDefinition:
    name: str
    type: FeatureType

    def to_api(self) -> dict[str, str]:
        return {"FeatureName": self.name, "FeatureType": self.type}


@dataclass(frozen=True)
class FeatureGroup:
    """What a group stores: its features (in order), which is the record id and which the event time."""

    name: str
    definitions: tuple[FeatureDefinition, ...]
    record_id: str
    event_time: str

    @property
    def types(self) -> dict[str, FeatureType]:
        return {d.name: d.type for d in self.definitions}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "record_id": self.record_id,
            "event_time": self.event_time,
            "definitions": [d.to_api() for d in self.definitions],
        }

    @classmethod
    def from_api(cls, described: Mapping[str, Any]) -> FeatureGroup:
        """From a DescribeFeatureGroup response (or `to_json()`-like data with API definitions)."""
        return cls(
            name=described.get("FeatureGroupName") or described["name"],
            definitions=tuple(
                FeatureDefinition(d["FeatureName"], d["FeatureType"])
                for d in described.get("FeatureDefinitions") or described["definitions"]
            ),
            record_id=described.get("RecordIdentifierFeatureName") or described["record_id"],
            event_time=described.get("EventTimeFeatureName") or described["event_time"],
        )


class ColumnLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def feature_type(self) -> FeatureType: ...


class SchemaLike(Protocol):
    """What `put_records` needs to create a group on first use — `ml_pipelines.features.FeatureSpec`."""

    @property
    def id_column(self) -> str: ...
    @property
    def event_time_column(self) -> str: ...
    @property
    def columns(self) -> Sequence[ColumnLike]: ...


class FeatureStore(Protocol):
    """Online: one record per id, the one with the latest event time. Offline: every record written."""

    def ensure_group(
        self, name: str, definitions: Sequence[FeatureDefinition], record_id: str, event_time: str
    ) -> FeatureGroup:
        """Create the group if missing; if it exists it must have exactly these features."""
        ...

    def describe_group(self, name: str) -> FeatureGroup:
        """The group's definitions; UnknownFeatureGroup if it does not exist."""
        ...

    def put_records(self, name: str, table: pa.Table | pd.DataFrame, spec: SchemaLike | None = None) -> int:
        """Write every row (nulls are left out of the record); return the number of records written.
        With `spec`, the group is first ensured from it (see `definitions_from_spec`)."""
        ...

    def get_record(self, name: str, record_id: str | int) -> dict[str, Any] | None:
        """The online record of `record_id`, typed by the group's definitions, or None."""
        ...

    def offline_path(self, name: str) -> str:
        """URI of the folder holding the group's offline Parquet."""
        ...

    def ingested_event_times(self, name: str) -> frozenset[str]:
        """The event times (encoded as in the records) whose records were all written and then marked
        with `mark_ingested`: what an incremental ingestion skips."""
        ...

    def mark_ingested(self, name: str, counts: Mapping[str, int]) -> None:
        """Record that every record of these event times (event time -> records written) is in the
        store. Called only after their records were written, so a crash in between leaves the event time
        unmarked and the next run writes it again (a put is an upsert by record id and event time)."""
        ...


@dataclass(frozen=True)
class IngestResult:
    """What one incremental ingestion did: records written and skipped, by event time."""

    written: int
    skipped: int
    event_times_written: tuple[str, ...]
    event_times_skipped: tuple[str, ...]
    backfill: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "records_written": self.written,
            "records_skipped": self.skipped,
            "event_times_written": list(self.event_times_written),
            "event_times_skipped": len(self.event_times_skipped),
            "backfill": self.backfill,
        }
