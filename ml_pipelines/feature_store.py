"""The feature store: the latest features of every customer for serving, and every record ever written
for training — SageMaker Feature Store semantics, with a local twin.

One port, two adapters, one switch (`feature_store(settings)`):

- `LocalFeatureStore`: the online store is a SQLite table holding one record per id — a record only
  replaces the stored one when its event time is the same or newer, so re-ingesting old snapshots never
  overwrites a newer one; the offline store is Parquet under the lake (`<lake>/feature_store/<group>/data/`),
  one file per `put_records` call, with SageMaker's extra columns (`write_time`, `api_invocation_time`,
  `is_deleted`), so it keeps every record, like SageMaker's offline store.
- `SageMakerFeatureStore`: `CreateFeatureGroup` with an online and an offline store, `PutRecord` /
  `GetRecord` through `sagemaker-featurestore-runtime`. SageMaker applies the same latest-by-event-time
  rule to its online store and appends every record to the offline store.

Both adapters encode records the same way (`encode_rows`: SageMaker's `ValueAsString` record shape) and
decode them the same way (`decode_record`), and both validate names, types and event times against
SageMaker's rules before writing, so data that ingests locally also ingests on AWS.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, get_args

import pyarrow as pa
import pyarrow.parquet as pq

from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from lakeml.core.lake import LakeStorage

FeatureType = Literal["Integral", "Fractional", "String"]
FEATURE_TYPES: tuple[FeatureType, ...] = get_args(FeatureType)
Record = list[dict[str, str]]  # SageMaker's record: [{"FeatureName": …, "ValueAsString": …}, …]

# SageMaker's rules (CreateFeatureGroup docs / botocore model).
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")
_FEATURE_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
RESERVED_FEATURE_NAMES = frozenset({"is_deleted", "write_time", "api_invocation_time"})
_EVENT_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ")
OFFLINE_EXTRA_COLUMNS = ("write_time", "api_invocation_time", "is_deleted")


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


class _ColumnLike(Protocol):
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
    def columns(self) -> Sequence[_ColumnLike]: ...


class FeatureStore(Protocol):
    """Online: one record per id, the one with the latest event time. Offline: every record written."""

    def ensure_group(
        self, name: str, definitions: Sequence[FeatureDefinition], record_id: str, event_time: str
    ) -> FeatureGroup:
        """Create the group if missing; if it exists it must have exactly these features."""
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


# --------------------------------------------------------------------------------------- definitions
def definitions_from_spec(spec: SchemaLike) -> tuple[tuple[FeatureDefinition, ...], str, str]:
    """(definitions, record id, event time) of a feature spec parsed from dbt's column docs; each column's
    Feature Store type comes from its dbt `data_type` (`ml_pipelines.features.Column.feature_type`)."""
    definitions = tuple(FeatureDefinition(c.name, c.feature_type) for c in spec.columns)
    return definitions, spec.id_column, spec.event_time_column


def definitions_from_gold(model: str = "customer_features", path: Path | None = None) -> FeatureGroup:
    """The feature group of a gold model, read from `dbt_project/models/gold/_gold.yml` (the one schema
    source shared with dbt's column docs; parsed by `ml_pipelines.features`)."""
    from ml_pipelines import features

    columns = features.load_models(path or features.GOLD_SCHEMA)
    if model not in columns:
        raise FeatureStoreError(f"{path or features.GOLD_SCHEMA} documents no model {model!r}")
    spec = features.spec_from_columns(columns[model], model=model, need_label=False)
    definitions, record_id, event_time = definitions_from_spec(spec)
    return FeatureGroup(model, definitions, record_id, event_time)


def check_group(group: FeatureGroup) -> None:
    """Refuse a group SageMaker would refuse, with the reason."""
    if not _GROUP_NAME.match(group.name):
        raise FeatureStoreError(
            f"feature group name {group.name!r} is not valid; use 1-64 letters and digits, joined by - or _"
        )
    seen: set[str] = set()
    for d in group.definitions:
        if not _FEATURE_NAME.match(d.name) or d.name.lower() in RESERVED_FEATURE_NAMES:
            raise FeatureStoreError(
                f"feature name {d.name!r} in group {group.name} is not valid on SageMaker: use letters and "
                f"digits joined by - or _, not one of {', '.join(sorted(RESERVED_FEATURE_NAMES))}"
            )
        if d.type not in FEATURE_TYPES:
            raise FeatureStoreError(
                f"feature {d.name}: type {d.type!r} is not one of {', '.join(FEATURE_TYPES)}"
            )
        if d.name.lower() in seen:
            raise FeatureStoreError(f"feature {d.name} is defined twice in group {group.name}")
        seen.add(d.name.lower())
    types = group.types
    if group.record_id not in types:
        raise FeatureStoreError(
            f"record identifier {group.record_id!r} is not one of group {group.name}'s features"
        )
    if types.get(group.event_time) not in ("String", "Fractional"):
        raise FeatureStoreError(
            f"event time {group.event_time!r} of group {group.name} must be a String (ISO-8601) or Fractional "
            f"(epoch seconds) feature; it is {types.get(group.event_time) or 'not defined'}"
        )


def _differences(existing: FeatureGroup, wanted: FeatureGroup) -> list[str]:
    out = []
    old, new = existing.types, wanted.types
    out += [f"adds {n}" for n in new if n not in old]
    out += [f"drops {n}" for n in old if n not in new]
    out += [f"changes {n} {old[n]} -> {new[n]}" for n in new if n in old and old[n] != new[n]]
    if existing.record_id != wanted.record_id:
        out.append(f"record identifier {existing.record_id} -> {wanted.record_id}")
    if existing.event_time != wanted.event_time:
        out.append(f"event time {existing.event_time} -> {wanted.event_time}")
    return out


def _mismatch(existing: FeatureGroup, wanted: FeatureGroup) -> FeatureGroupMismatch:
    return FeatureGroupMismatch(
        f"feature group {existing.name} already exists with other features (this schema "
        f"{'; '.join(_differences(existing, wanted))}). A feature group's definitions cannot be changed: "
        f"ingest into a new group (e.g. {existing.name}-v2) and point the pipeline's --feature-group at it"
    )


# --------------------------------------------------------------------------------------- records
def _event_time_string(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return (
            moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            if moment.microsecond
            else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    if isinstance(value, date):
        return value.strftime("%Y-%m-%dT00:00:00Z")
    text = str(value)
    parse_event_time(text, "String")
    return text


def parse_event_time(value: str, kind: FeatureType) -> float:
    """Epoch seconds of an encoded event time; refuses formats SageMaker refuses."""
    if kind == "Fractional":
        return float(value)
    for fmt in _EVENT_TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise FeatureStoreError(
        f"event time {value!r} is not ISO-8601 as SageMaker takes it: use yyyy-MM-ddTHH:mm:ssZ or "
        "yyyy-MM-ddTHH:mm:ss.SSSZ (UTC), or pass a date/timestamp column"
    )


def _encode(value: Any, kind: FeatureType, name: str) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "Integral":
        if isinstance(value, float) and not value.is_integer():
            raise FeatureStoreError(f"feature {name} is Integral but got {value!r}")
        return str(int(value))
    if kind == "Fractional":
        number = float(value)
        if math.isinf(number):
            raise FeatureStoreError(f"feature {name} is {value!r}; Feature Store takes finite numbers")
        return repr(number)
    if isinstance(value, datetime | date):
        return _event_time_string(value)
    return str(value)


def _as_table(table: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(table, pa.Table):
        return table
    return pa.Table.from_pandas(table, preserve_index=False)


def encode_rows(group: FeatureGroup, table: pa.Table | pd.DataFrame) -> Iterator[Record]:
    """Rows as SageMaker records (`ValueAsString`), in order; nulls are left out, as PutRecord wants.
    Raises on columns the group does not define and on rows without a record id or event time."""
    data = _as_table(table)
    types = group.types
    unknown = [c for c in data.column_names if c not in types]
    if unknown:
        raise FeatureStoreError(
            f"column(s) {', '.join(unknown)} are not features of group {group.name} "
            f"({', '.join(types)}); drop them or ingest into a group that defines them"
        )
    for column in (group.record_id, group.event_time):
        if column not in data.column_names:
            raise FeatureStoreError(f"records for group {group.name} need column {column!r}")
    for row in data.to_pylist():
        record: Record = []
        for name, value in row.items():
            if name == group.event_time and value is not None and types[name] == "String":
                text: str | None = _event_time_string(value)
            else:
                text = _encode(value, types[name], name)
            if text is not None:
                record.append({"FeatureName": name, "ValueAsString": text})
        present = {f["FeatureName"] for f in record}
        for required in (group.record_id, group.event_time):
            if required not in present:
                raise FeatureStoreError(f"a record for group {group.name} has no {required}: {row}")
        yield record


def decode_record(group: FeatureGroup, record: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    types = group.types
    out: dict[str, Any] = {}
    for feature in record:
        name, text = feature["FeatureName"], feature["ValueAsString"]
        kind = types.get(name, "String")
        out[name] = int(text) if kind == "Integral" else float(text) if kind == "Fractional" else text
    return out


def _value_of(record: Record, name: str) -> str:
    return next(f["ValueAsString"] for f in record if f["FeatureName"] == name)


# --------------------------------------------------------------------------------------- local
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_groups (
    name TEXT PRIMARY KEY, definition TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feature_online (
    group_name TEXT NOT NULL, record_id TEXT NOT NULL, event_time REAL NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (group_name, record_id));
"""

_ARROW_TYPES: Mapping[FeatureType, pa.DataType] = {
    "Integral": pa.int64(),
    "Fractional": pa.float64(),
    "String": pa.string(),
}


class LocalFeatureStore:
    """Local adapter: online SQLite in the state database, offline Parquet in the lake (see module doc)."""

    def __init__(self, lake: LakeStorage, db_path: Path) -> None:
        self.lake = lake
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30, isolation_level=None)

    def _group(self, name: str) -> FeatureGroup:
        with self._connect() as db:
            row = db.execute("SELECT definition FROM feature_groups WHERE name = ?", (name,)).fetchone()
            if row is None:
                known = [r[0] for r in db.execute("SELECT name FROM feature_groups ORDER BY name")]
                raise _unknown_group(name, known)
        return FeatureGroup.from_api(json.loads(row[0]))

    def ensure_group(
        self, name: str, definitions: Sequence[FeatureDefinition], record_id: str, event_time: str
    ) -> FeatureGroup:
        wanted = FeatureGroup(name, tuple(definitions), record_id, event_time)
        check_group(wanted)
        with self._connect() as db:
            db.execute(
                "INSERT INTO feature_groups (name, definition, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                (name, json.dumps(wanted.to_json()), datetime.now(UTC).isoformat()),
            )
        existing = self._group(name)
        if existing != wanted:
            raise _mismatch(existing, wanted)
        return existing

    def put_records(self, name: str, table: pa.Table | pd.DataFrame, spec: SchemaLike | None = None) -> int:
        if spec is not None:
            self.ensure_group(name, *definitions_from_spec(spec))
        group = self._group(name)
        records = list(encode_rows(group, table))  # validate everything before writing anything
        if not records:
            return 0
        kind = group.types[group.event_time]
        now = datetime.now(UTC)
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                # SageMaker's online rule: a record replaces the stored one only if it is not older.
                "INSERT INTO feature_online (group_name, record_id, event_time, record) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(group_name, record_id) DO UPDATE SET event_time = excluded.event_time, "
                "record = excluded.record WHERE excluded.event_time >= feature_online.event_time",
                (
                    (
                        name,
                        _value_of(r, group.record_id),
                        parse_event_time(_value_of(r, group.event_time), kind),
                        json.dumps(r),
                    )
                    for r in records
                ),
            )
            self._write_offline(group, records, now)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return len(records)

    def _write_offline(self, group: FeatureGroup, records: list[Record], now: datetime) -> None:
        """One Parquet file per call, typed by the definitions, with SageMaker's offline extra columns.
        Written to a temporary name and renamed, so readers never see a partial file."""
        decoded = [decode_record(group, r) for r in records]
        columns = {
            d.name: pa.array([row.get(d.name) for row in decoded], type=_ARROW_TYPES[d.type])
            for d in group.definitions
        }
        stamp = pa.array([now] * len(decoded), type=pa.timestamp("us", tz="UTC"))
        columns |= {
            "write_time": stamp,
            "api_invocation_time": stamp,
            "is_deleted": pa.array([False] * len(decoded)),
        }
        folder = self.lake.path("feature_store", group.name, "data")
        self.lake.fs.create_dir(folder, recursive=True)
        final = f"{folder}/{now.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:8]}.parquet"
        pq.write_table(pa.table(columns), final + ".tmp", filesystem=self.lake.fs)
        self.lake.fs.move(final + ".tmp", final)

    def get_record(self, name: str, record_id: str | int) -> dict[str, Any] | None:
        group = self._group(name)
        with self._connect() as db:
            row = db.execute(
                "SELECT record FROM feature_online WHERE group_name = ? AND record_id = ?",
                (name, str(record_id)),
            ).fetchone()
        return decode_record(group, json.loads(row[0])) if row else None

    def offline_path(self, name: str) -> str:
        self._group(name)
        return self.lake.uri_of("feature_store", name, "data")


def _unknown_group(name: str, known: list[str]) -> UnknownFeatureGroup:
    return UnknownFeatureGroup(
        f"feature group {name!r} does not exist (groups: {', '.join(known) or 'none yet'}); the pipeline's "
        "IngestFeatures step creates it — run the pipeline (`lakeml run`) first"
    )


# --------------------------------------------------------------------------------------- SageMaker
class SageMakerFeatureStore:
    """AWS adapter: `sagemaker` and `runtime` are boto3 clients (`sagemaker`,
    `sagemaker-featurestore-runtime`); `offline_s3_uri` is where the offline store writes; `role_arn`
    is the role SageMaker uses to write it (needed only to create a group)."""

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
            raise _unknown_group(name, []) from None

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
            raise _mismatch(existing, wanted)
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


# --------------------------------------------------------------------------------------- switch
def feature_store(settings: Settings) -> FeatureStore:
    """The one switch between the local and the SageMaker feature store."""
    if settings.env == "local":
        from lakeml.wiring import adapters  # TODO(issue 11)

        return LocalFeatureStore(adapters(settings).lake, settings.state_db)
    import os

    import boto3

    options = {"region_name": settings.aws.region, "endpoint_url": settings.aws.endpoint_url}
    return SageMakerFeatureStore(
        boto3.client("sagemaker", **options),
        boto3.client("sagemaker-featurestore-runtime", **options),
        offline_s3_uri=f"s3://{settings.aws.lake_bucket}/feature_store",
        role_arn=os.environ.get("LAKEML_AWS__SAGEMAKER_ROLE_ARN"),
    )
