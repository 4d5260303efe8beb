"""Records as SageMaker Feature Store takes them, for both adapters: every row is encoded to SageMaker's
`ValueAsString` record shape (`encode_rows`) and read back typed by the group's definitions
(`decode_record`); event times are checked against the formats SageMaker accepts (`parse_event_time`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ml_pipelines.feature_store.port import FeatureGroup, FeatureStoreError, FeatureType, Record

if TYPE_CHECKING:
    import pandas as pd

EVENT_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ")


def event_time_string(value: Any) -> str:
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
    for fmt in EVENT_TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise FeatureStoreError(
        f"event time {value!r} is not ISO-8601 as SageMaker takes it: use yyyy-MM-ddTHH:mm:ssZ or "
        "yyyy-MM-ddTHH:mm:ss.SSSZ (UTC), or pass a date/timestamp column"
    )


def encode_value(value: Any, kind: FeatureType, name: str) -> str | None:
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
        return event_time_string(value)
    return str(value)


def as_table(table: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(table, pa.Table):
        return table
    return pa.Table.from_pandas(table, preserve_index=False)


def encode_rows(group: FeatureGroup, table: pa.Table | pd.DataFrame) -> Iterator[Record]:
    """Rows as SageMaker records (`ValueAsString`), in order; nulls are left out, as PutRecord wants.
    Raises on columns the group does not define and on rows without a record id or event time."""
    data = as_table(table)
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
                text: str | None = event_time_string(value)
            else:
                text = encode_value(value, types[name], name)
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


def value_of(record: Record, name: str) -> str:
    return next(f["ValueAsString"] for f in record if f["FeatureName"] == name)
