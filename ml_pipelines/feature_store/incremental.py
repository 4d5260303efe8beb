"""Incremental feature ingestion, the same for both adapters: write only the event times the store does
not have.

Gold's `customer_features` is a grid of snapshots that never changes once built (dbt builds it
incrementally by snapshot date), so an event time the store has fully ingested need not be written
again. `ingest()` splits the rows by event time, skips those `store.ingested_event_times()` lists, and
writes the others one event time at a time, marking each (`store.mark_ingested`) only after all of its
records were written. A crash leaves the event time being written unmarked: the next run writes it
again, which is harmless (a put is an upsert by record id and event time, online and offline).

A backfill is explicit: `backfill=True` writes every event time of the table given, marked or not; a
predicate over event time values chooses which to rewrite (e.g. the snapshots on/after a date). `plan()`
answers which event times a run writes before any row is read, so a caller can read only those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ml_pipelines.feature_store.port import FeatureStore, FeatureStoreError, FeatureType, IngestResult
from ml_pipelines.feature_store.records import as_table, encode_value, event_time_string
from ml_pipelines.feature_store.rules import definitions_from_spec

if TYPE_CHECKING:
    import pandas as pd

    from ml_pipelines.feature_store.port import SchemaLike

ProgressFn = Callable[[int, int], None]  # (records written so far, records to write)


def event_time_key(value: Any, kind: FeatureType) -> str:
    """The event time as the record carries it (`ValueAsString`): what the store marks."""
    if kind == "String":
        return event_time_string(value)
    text = encode_value(value, kind, "event time")
    if text is None:
        raise FeatureStoreError("an event time is missing")
    return text


Backfill = bool | Callable[[Any], bool]  # all, none, or which event time values to rewrite


@dataclass(frozen=True)
class Plan:
    """Which event times to write (key -> the value as the table holds it) and which to skip."""

    write: dict[str, Any]
    skip: tuple[str, ...]


def plan(store: FeatureStore, name: str, values: Iterable[Any], *, backfill: Backfill = False) -> Plan:
    """Split event time `values` into those to write — not ingested yet, or chosen by `backfill` — and
    those the store has."""
    group = store.describe_group(name)
    kind = group.types[group.event_time]
    keys = {event_time_key(v, kind): v for v in values}
    rewrite: Callable[[Any], bool] = (lambda _v: backfill) if isinstance(backfill, bool) else backfill
    have = frozenset() if backfill is True else store.ingested_event_times(name)
    write = {k: v for k, v in sorted(keys.items()) if k not in have or rewrite(v)}
    return Plan(write=write, skip=tuple(sorted(k for k in keys if k not in write)))


def ingest(
    store: FeatureStore,
    name: str,
    table: pa.Table | pd.DataFrame,
    spec: SchemaLike | None = None,
    *,
    backfill: Backfill = False,
    progress: ProgressFn | None = None,
) -> IngestResult:
    """Write the rows of `table` whose event time `store` has not ingested (and those `backfill`
    chooses: True for all), one event time at a time, oldest first; each is marked once written. With
    `spec` the group is first ensured from it."""
    if spec is not None:
        store.ensure_group(name, *definitions_from_spec(spec))
    group = store.describe_group(name)
    data = as_table(table)
    if group.event_time not in data.column_names:
        raise FeatureStoreError(f"records for group {name} need column {group.event_time!r}")
    column = data.column(group.event_time)
    if column.null_count:
        raise FeatureStoreError(f"a record for group {name} has no {group.event_time}")
    todo = plan(store, name, pc.unique(column).to_pylist(), backfill=backfill)
    slices = {k: data.filter(pc.equal(column, pa.scalar(v, column.type))) for k, v in todo.write.items()}
    total = sum(s.num_rows for s in slices.values())
    written = 0
    for key, rows in slices.items():
        written += store.put_records(name, rows)
        store.mark_ingested(name, {key: rows.num_rows})
        if progress:
            progress(written, total)
    return IngestResult(
        written=written,
        skipped=data.num_rows - total,
        event_times_written=tuple(slices),
        event_times_skipped=todo.skip,
        backfill=backfill is not False,
    )
