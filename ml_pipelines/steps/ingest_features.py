"""Gold `customer_features` -> the customer feature group (processing step).

The record identifier and event time come from the one schema source (dbt's `_gold.yml`, parsed by
`ml_pipelines.features`): `customer_id` and the snapshot date. Records go through the feature-store port
the job's entry point (`lakeml.jobs.ingest_features`) hands `run()` — SageMaker Feature Store (online +
offline) on AWS, offline Parquet + online SQLite locally — which keeps the latest record per id by event time, so re-ingesting the
same snapshots is harmless. The step also writes `ingest.json` (rows, customers, snapshot range, and
under `lineage` the dbt build the features come from, `ml_pipelines.feature_store.lineage`) as its
processing output; the Register step copies `lineage.dbt_invocation_id` into the model version.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeml.core.errors import LakemlError, UsageError
from ml_pipelines import features as feature_schema
from ml_pipelines.feature_store.incremental import Backfill, ingest, plan
from ml_pipelines.feature_store.lineage import LATEST, resolve_dbt_invocation
from ml_pipelines.feature_store.rules import definitions_from_spec
from ml_pipelines.steps.container import Container, write_json

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from lakeml.core.lake import LakeStorage
    from ml_pipelines.feature_store import FeatureStore

DEFAULT_FEATURE_GROUP = "lakeml-customer-features"
NO_BACKFILL = "none"
BACKFILL_ALL = "all"


def parse_args(argv: list[str] | None, container: Container) -> argparse.Namespace:
    c = container
    parser = argparse.ArgumentParser(
        prog="python -m lakeml.jobs.ingest_features", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--input",
        default=c.processing("input", "customer_features"),
        help="folder of customer_features Parquet",
    )
    parser.add_argument("--output", default=c.processing("report"), help="where ingest.json goes")
    parser.add_argument("--feature-group", default=DEFAULT_FEATURE_GROUP, help="feature group name")
    parser.add_argument("--schema", default=str(feature_schema.GOLD_SCHEMA), help="dbt gold column docs")
    parser.add_argument("--since", default="", help="only snapshots on/after this date (YYYY-MM-DD)")
    parser.add_argument(
        "--backfill",
        default=NO_BACKFILL,
        help="rewrite snapshots the store already has: 'all', or those on/after a date YYYY-MM-DD "
        "(default 'none': write only new snapshots)",
    )
    parser.add_argument(
        "--dbt-invocation-id",
        default=LATEST,
        help="the dbt build gold comes from; 'latest' reads runs/dbt/latest.json in the lake",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, *, store: FeatureStore, lake: LakeStorage | None = None) -> int:
    import pyarrow.compute as pc

    from ml_pipelines.data import open_dataset
    from ml_pipelines.feature_store.port import IngestResult

    started = time.monotonic()
    backfill = backfill_choice(args.backfill)
    spec = feature_schema.feature_group_spec(Path(args.schema))
    event_time, record_id = spec.event_time_column, spec.id_column
    dataset = open_dataset(Path(args.input), "customer_features")
    documented = [col.name for col in spec.columns]
    missing = [name for name in documented if name not in dataset.schema.names]
    if missing:
        raise LakemlError(
            f"customer_features lacks column(s) {', '.join(missing)} documented in {args.schema}; "
            "rebuild gold (`lakeml transform`) or fix the column docs"
        )
    # dbt partitions gold by snapshot date, so the column comes back from the folder names (as text):
    # the snapshots are known from the folders alone, and only those to write are read.
    snapshots = snapshot_dates(dataset, event_time, since=args.since)
    store.ensure_group(args.feature_group, *definitions_from_spec(spec))
    todo = plan(store, args.feature_group, snapshots.values(), backfill=backfill)
    chosen = set(todo.write.values())
    in_scope = partitions(dataset, event_time, list(snapshots))
    table = dataset.to_table(
        columns=documented,
        filter=partitions(dataset, event_time, [r for r, d in snapshots.items() if d in chosen]),
    )
    table = table.set_column(
        table.schema.get_field_index(event_time), event_time, as_dates(table.column(event_time))
    )
    if table.column(record_id).null_count:
        raise LakemlError(f"customer_features has rows without {record_id}; gold tests should stop those")
    done = ingest(store, args.feature_group, table, backfill=backfill) if table.num_rows else None
    rows = dataset.count_rows(filter=in_scope)
    written = done.written if done else 0
    result = IngestResult(
        written=written,
        skipped=rows - written,
        event_times_written=done.event_times_written if done else (),
        event_times_skipped=todo.skip,
        backfill=backfill is not False,
    )
    ids = dataset.to_table(columns=[record_id], filter=in_scope).column(record_id)
    report = {
        "feature_group": args.feature_group,
        "record_identifier": record_id,
        "event_time": event_time,
        "rows": rows,
        **result.to_json(),
        "customers": int(pc.count_distinct(ids).as_py()),
        "snapshot_from": str(min(snapshots.values())) if snapshots else None,
        "snapshot_to": str(max(snapshots.values())) if snapshots else None,
        "seconds": round(time.monotonic() - started, 3),
        "lineage": resolve_dbt_invocation(lake, args.dbt_invocation_id),
    }
    write_json(Path(args.output) / "ingest.json", report)
    print(
        f"feature group {args.feature_group}: {result.written} records written "
        f"({len(result.event_times_written)} snapshots{', backfill' if result.backfill else ''}), "
        f"{result.skipped} skipped (already ingested) of {report['rows']} rows "
        f"({report['snapshot_from']}..{report['snapshot_to']}) in {report['seconds']:.2f} s; dbt invocation "
        f"{report['lineage']['dbt_invocation_id']}",
        flush=True,
    )
    return 0


def partitions(dataset: ds.Dataset, event_time: str, values: list[Any]) -> pc.Expression:
    """The rows whose snapshot is one of `values` (as the partition column holds them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.field(event_time).isin(pa.array(values, type=dataset.schema.field(event_time).type))


def snapshot_dates(dataset: ds.Dataset, event_time: str, *, since: str = "") -> dict[Any, date]:
    """The snapshots of the input, as the partition column holds them -> their date; only those on/after
    `since` (YYYY-MM-DD) when given."""
    import pyarrow.compute as pc

    raw = pc.unique(dataset.to_table(columns=[event_time]).column(event_time))
    if raw.null_count:
        raise LakemlError(f"customer_features has rows without {event_time}; gold tests should stop those")
    dates = dict(zip(raw.to_pylist(), as_dates(raw).to_pylist(), strict=True))
    first = date.fromisoformat(since) if since else date.min
    return {value: day for value, day in dates.items() if day >= first}


def as_dates(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Snapshot dates as a date column, from text (`2026-11-01`, the partition folders), timestamps or
    dates."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_dictionary(kind):
        return as_dates(values.cast(kind.value_type))
    if pa.types.is_date32(kind):
        return values
    if pa.types.is_timestamp(kind) or pa.types.is_date64(kind):
        return pc.cast(values, pa.date32())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        day = pc.utf8_slice_codeunits(values, 0, 10)
        return pc.cast(pc.strptime(day, format="%Y-%m-%d", unit="s"), pa.date32())
    raise LakemlError(f"snapshot dates of type {kind} are not dates; gold writes them as dates or text")


def backfill_choice(value: str) -> Backfill:
    """`--backfill`: False (only new snapshots), True (`all`) or which snapshot dates to rewrite."""
    if value in ("", NO_BACKFILL):
        return False
    if value == BACKFILL_ALL:
        return True
    try:
        first = date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--backfill {value!r}: use {NO_BACKFILL!r}, {BACKFILL_ALL!r} or a date YYYY-MM-DD "
            "(rewrite the snapshots on/after it)"
        ) from None
    return lambda day: bool(day >= first)
