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
from typing import TYPE_CHECKING

from lakeml.core.errors import LakemlError, UsageError
from ml_pipelines import features as feature_schema
from ml_pipelines.feature_store.incremental import ingest
from ml_pipelines.feature_store.lineage import LATEST, resolve_dbt_invocation
from ml_pipelines.steps.container import Container, write_json

if TYPE_CHECKING:
    import pandas as pd

    from lakeml.core.lake import LakeStorage
    from ml_pipelines.feature_store import FeatureStore, IngestResult

DEFAULT_FEATURE_GROUP = "lakeml-customer-features"
NO_BACKFILL = "none"
BACKFILL_ALL = "all"


def backfill_from(value: str) -> date | None:
    """`--backfill`: None (incremental), date.min (`all`) or the first snapshot date to rewrite."""
    if value in ("", NO_BACKFILL):
        return None
    if value == BACKFILL_ALL:
        return date.min
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--backfill {value!r}: use {NO_BACKFILL!r}, {BACKFILL_ALL!r} or a date YYYY-MM-DD "
            "(rewrite the snapshots on/after it)"
        ) from None


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
    import pandas as pd

    from ml_pipelines.data import read_frame

    started = time.monotonic()
    rewrite_from = backfill_from(args.backfill)
    spec = feature_schema.feature_group_spec(Path(args.schema))
    frame = read_frame(Path(args.input), "customer_features")
    documented = [col.name for col in spec.columns]
    missing = [name for name in documented if name not in frame.columns]
    if missing:
        raise LakemlError(
            f"customer_features lacks column(s) {', '.join(missing)} documented in {args.schema}; "
            "rebuild gold (`lakeml transform`) or fix the column docs"
        )
    frame = frame[documented].copy()
    dates = pd.to_datetime(frame[spec.event_time_column])
    if args.since:
        keep = dates >= pd.Timestamp(args.since)
        frame, dates = frame[keep], dates[keep]
    # dbt partitions gold by snapshot date, so the column comes back from the folder names as text.
    frame[spec.event_time_column] = dates.dt.date
    if frame[spec.id_column].isna().any():
        raise LakemlError(
            f"customer_features has rows without {spec.id_column}; gold tests should stop those"
        )
    result = _ingest(store, args.feature_group, frame, spec, dates, rewrite_from)
    report = {
        "feature_group": args.feature_group,
        "record_identifier": spec.id_column,
        "event_time": spec.event_time_column,
        "rows": len(frame),
        **result.to_json(),
        "customers": int(frame[spec.id_column].nunique()),
        "snapshot_from": str(dates.min().date()) if len(frame) else None,
        "snapshot_to": str(dates.max().date()) if len(frame) else None,
        "seconds": round(time.monotonic() - started, 3),
        "lineage": resolve_dbt_invocation(lake, args.dbt_invocation_id),
    }
    write_json(Path(args.output) / "ingest.json", report)
    print(
        f"feature group {args.feature_group}: {result.written} records written "
        f"({len(result.event_times_written)} snapshots{', backfill' if result.backfill else ''}), "
        f"{result.skipped} skipped (already ingested) of {report['rows']} rows "
        f"({report['snapshot_from']}..{report['snapshot_to']}); dbt invocation "
        f"{report['lineage']['dbt_invocation_id']}",
        flush=True,
    )
    return 0


def _ingest(
    store: FeatureStore,
    group: str,
    frame: pd.DataFrame,
    spec: feature_schema.FeatureSpec,
    dates: pd.Series,
    rewrite_from: date | None,
) -> IngestResult:
    """Incremental ingestion; with a backfill date, the snapshots on/after it are rewritten and the
    older ones still only written when new."""
    import pandas as pd

    from ml_pipelines.feature_store.port import IngestResult

    if rewrite_from is None:
        return ingest(store, group, frame, spec)
    if rewrite_from == date.min:
        return ingest(store, group, frame, spec, backfill=True)
    rewrite = (dates >= pd.Timestamp(rewrite_from)).to_numpy()
    older = ingest(store, group, frame[~rewrite], spec)
    newer = ingest(store, group, frame[rewrite], spec, backfill=True)
    return IngestResult(
        written=older.written + newer.written,
        skipped=older.skipped + newer.skipped,
        event_times_written=older.event_times_written + newer.event_times_written,
        event_times_skipped=older.event_times_skipped + newer.event_times_skipped,
        backfill=True,
    )
