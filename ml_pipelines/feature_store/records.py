"""Records as SageMaker Feature Store takes them, for both adapters: every row is encoded to SageMaker's
`ValueAsString` record shape (`encode_rows`) and read back typed by the group's definitions
(`decode_record`); event times are checked against the formats SageMaker accepts (`parse_event_time`).
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=4096)  # a batch repeats few event times
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
    return records_of(encode_columns(group, table))


def records_of(texts: Mapping[str, list[str | None]]) -> Iterator[Record]:
    """The records of `encode_columns`' texts, row by row."""
    names = list(texts)
    for row_texts in zip(*texts.values(), strict=True):
        yield [
            {"FeatureName": name, "ValueAsString": text}
            for name, text in zip(names, row_texts, strict=True)
            if text is not None
        ]


def encode_columns(group: FeatureGroup, table: pa.Table | pd.DataFrame) -> dict[str, list[str | None]]:
    """Every column of `table` as `ValueAsString` texts (None: left out of the record), validated: columns
    the group does not define, missing record ids or event times and unencodable values are refused."""
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
    texts = {
        n: encode_column(data.column(n), types[n], n, event_time=n == group.event_time)
        for n in data.column_names
    }
    for required in (group.record_id, group.event_time):
        if None in texts[required]:
            row = data.slice(texts[required].index(None), 1).to_pylist()[0]
            raise FeatureStoreError(f"a record for group {group.name} has no {required}: {row}")
    return texts


def encode_column(
    column: pa.ChunkedArray, kind: FeatureType, name: str, *, event_time: bool = False
) -> list[str | None]:
    """A column's values as `ValueAsString` texts (None: null or NaN, left out of the record) — what
    `encode_value` gives value by value, computed by Arrow for the common types."""
    import pyarrow.compute as pc

    kind_of = column.type
    numeric = pa.types.is_integer(kind_of) or pa.types.is_boolean(kind_of)
    floating = pa.types.is_floating(kind_of)
    if event_time and kind == "String":  # few distinct values: convert each once
        distinct = {v: event_time_string(v) for v in pc.unique(column).to_pylist() if v is not None}
        return [None if v is None else distinct[v] for v in column.to_pylist()]
    if kind == "String" and (pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of)):
        return list(column.to_pylist())
    if floating:
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind_of), column)
        if pc.any(pc.is_inf(column)).as_py():
            bad = pc.filter(column, pc.is_inf(column))[0].as_py()
            raise FeatureStoreError(f"feature {name} is {bad!r}; Feature Store takes finite numbers")
    if kind == "Integral" and (numeric or floating):
        if floating:
            fractional = pc.not_equal(pc.floor(column), column)
            if pc.any(fractional).as_py():
                bad = pc.filter(column, fractional)[0].as_py()
                raise FeatureStoreError(f"feature {name} is Integral but got {bad!r}")
        return list(pc.cast(pc.cast(column, pa.int64()), pa.string()).to_pylist())
    if kind == "Fractional" and (numeric or floating):
        return [None if v is None else repr(v) for v in pc.cast(column, pa.float64()).to_pylist()]
    return [encode_value(v, kind, name) for v in column.to_pylist()]


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
