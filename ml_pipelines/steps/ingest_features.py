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
from pathlib import Path
from typing import TYPE_CHECKING

from lakeml.core.errors import LakemlError
from ml_pipelines import features as feature_schema
from ml_pipelines.feature_store.lineage import LATEST, resolve_dbt_invocation
from ml_pipelines.steps.container import Container, write_json

if TYPE_CHECKING:
    from lakeml.core.lake import LakeStorage
    from ml_pipelines.feature_store import FeatureStore

DEFAULT_FEATURE_GROUP = "lakeml-customer-features"


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
        "--dbt-invocation-id",
        default=LATEST,
        help="the dbt build gold comes from; 'latest' reads runs/dbt/latest.json in the lake",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, *, store: FeatureStore, lake: LakeStorage | None = None) -> int:
    import pandas as pd

    from ml_pipelines.data import read_frame

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
    written = store.put_records(args.feature_group, frame, spec)
    report = {
        "feature_group": args.feature_group,
        "record_identifier": spec.id_column,
        "event_time": spec.event_time_column,
        "rows": len(frame),
        "records_written": written,
        "customers": int(frame[spec.id_column].nunique()),
        "snapshot_from": str(dates.min().date()) if len(frame) else None,
        "snapshot_to": str(dates.max().date()) if len(frame) else None,
        "lineage": resolve_dbt_invocation(lake, args.dbt_invocation_id),
    }
    write_json(Path(args.output) / "ingest.json", report)
    print(
        f"feature group {args.feature_group}: {written} records from {report['rows']} rows "
        f"({report['snapshot_from']}..{report['snapshot_to']}); dbt invocation "
        f"{report['lineage']['dbt_invocation_id']}",
        flush=True,
    )
    return 0
