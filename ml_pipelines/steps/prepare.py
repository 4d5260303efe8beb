"""Time-based train / validation / test split of `churn_training_set` (processing step).

Test is the latest snapshots, validation the latest snapshots before them, train the rest — never a
random split, because a model is used on snapshots later than any it saw. Leakage rules, checked here:

- a (customer, snapshot) row appears once in the input and so in exactly one split;
- every train and validation row's label window (snapshot + `--label-window-days`) ends on or before the
  first test snapshot, so nothing the test labels depend on was visible in training. Snapshots in the gap
  are dropped (and counted in the report).

Outputs: Parquet + `features.json` per split (the training channels carry the feature list with them),
and `split.json` with each split's rows, positives, positive rate and snapshot range.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

from lakeml.core.errors import LakemlError
from ml_pipelines import features as feature_schema
from ml_pipelines.steps.container import Container, write_json

DEFAULT_LABEL_WINDOW_DAYS = 90


def parse_args(argv: list[str] | None, container: Container) -> argparse.Namespace:
    c = container
    parser = argparse.ArgumentParser(prog="python -m lakeml.jobs.prepare", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--input", default=c.processing("input", "training_set"), help="folder of churn_training_set Parquet"
    )
    parser.add_argument("--train", default=c.processing("train"), help="output folder of the train split")
    parser.add_argument(
        "--validation", default=c.processing("validation"), help="output folder of validation"
    )
    parser.add_argument("--test", default=c.processing("test"), help="output folder of the test split")
    parser.add_argument("--report", default=c.processing("report"), help="output folder of split.json")
    parser.add_argument("--schema", default=str(feature_schema.GOLD_SCHEMA), help="dbt gold column docs")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of snapshot dates in test")
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=0.2,
        help="share of the remaining (embargoed) snapshot dates in validation",
    )
    parser.add_argument(
        "--label-window-days",
        type=int,
        default=DEFAULT_LABEL_WINDOW_DAYS,
        help="days after a snapshot that its label looks at",
    )
    return parser.parse_args(argv)


def _take_latest(dates: list[Any], fraction: float) -> int:
    return max(1, round(len(dates) * fraction))


def split_dates(
    dates: list[Any], *, test_fraction: float, validation_fraction: float, label_window_days: int
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Sorted unique snapshot dates -> (train, validation, test, embargoed) date lists."""
    if len(dates) < 3:
        raise LakemlError(
            f"churn_training_set has {len(dates)} snapshot date(s); a time split needs at least 3 "
            "(generate more history: `lakeml source advance --days N`)"
        )
    test = dates[-_take_latest(dates, test_fraction) :]
    test_start = test[0]
    window = timedelta(days=label_window_days)
    before = [d for d in dates if d < test_start]
    usable = [d for d in before if d + window <= test_start]
    embargoed = [d for d in before if d + window > test_start]
    if len(usable) < 2:
        raise LakemlError(
            f"only {len(usable)} snapshot date(s) end their {label_window_days}-day label window before the test "
            f"period starts ({test_start}); need 2 for train and validation. Generate more history or lower "
            "--test-fraction"
        )
    n_val = min(_take_latest(usable, validation_fraction), len(usable) - 1)
    return usable[:-n_val], usable[-n_val:], test, embargoed


def _balance(frame: Any, spec: feature_schema.FeatureSpec) -> dict[str, Any]:
    rows = len(frame)
    positives = int(frame[spec.label_column].sum()) if rows else 0
    dates = frame[spec.event_time_column]
    return {
        "rows": rows,
        "positives": positives,
        "negatives": rows - positives,
        "positive_rate": round(positives / rows, 6) if rows else None,
        "customers": int(frame[spec.id_column].nunique()),
        "snapshot_from": str(dates.min()) if rows else None,
        "snapshot_to": str(dates.max()) if rows else None,
        "snapshots": int(dates.nunique()),
    }


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ml_pipelines.data import read_frame, write_frame

    spec = feature_schema.training_spec(Path(args.schema))
    frame = read_frame(Path(args.input), "churn_training_set")
    needed = [spec.id_column, spec.event_time_column, spec.label_column, *spec.features]
    missing = [col for col in needed if col not in frame.columns]
    if missing:
        raise LakemlError(
            f"churn_training_set lacks column(s) {', '.join(missing)} that {args.schema} documents; "
            "rebuild gold (`lakeml transform`) or fix the column docs"
        )
    frame = frame[needed].copy()
    frame[spec.event_time_column] = pd.to_datetime(frame[spec.event_time_column]).dt.date
    frame[spec.label_column] = frame[spec.label_column].astype("int8")
    duplicated = frame.duplicated([spec.id_column, spec.event_time_column])
    if duplicated.any():
        example = frame.loc[duplicated, [spec.id_column, spec.event_time_column]].iloc[0].tolist()
        raise LakemlError(
            f"churn_training_set has {int(duplicated.sum())} duplicate (customer, snapshot) rows, "
            f"e.g. {example}; gold must hold one row per customer per snapshot"
        )

    dates = sorted(frame[spec.event_time_column].unique())
    train_d, val_d, test_d, embargoed = split_dates(
        dates,
        test_fraction=args.test_fraction,
        validation_fraction=args.validation_fraction,
        label_window_days=args.label_window_days,
    )
    splits = {
        "train": frame[frame[spec.event_time_column].isin(train_d)],
        "validation": frame[frame[spec.event_time_column].isin(val_d)],
        "test": frame[frame[spec.event_time_column].isin(test_d)],
    }
    outputs = {"train": Path(args.train), "validation": Path(args.validation), "test": Path(args.test)}
    for name, part in splits.items():
        if part[spec.label_column].nunique() < 2:
            raise LakemlError(
                f"the {name} split has only one class ({len(part)} rows); AUC is undefined. "
                "Generate more customers or history"
            )
        write_frame(part.sort_values([spec.event_time_column, spec.id_column]), outputs[name])
        spec.write(outputs[name] / "features.json")

    report = {
        "data_snapshot": str(dates[-1]),
        "label_window_days": args.label_window_days,
        "features": list(spec.features),
        "splits": {name: _balance(part, spec) for name, part in splits.items()},
        "embargoed": {
            "snapshots": [str(d) for d in embargoed],
            "rows": int(frame[spec.event_time_column].isin(embargoed).sum()),
        },
    }
    write_json(Path(args.report) / "split.json", report)
    for folder in outputs.values():  # travels with the data into the training channels
        write_json(folder / "split.json", report)
    for name, info in report["splits"].items():
        print(
            f"{name}: rows={info['rows']} positive_rate={info['positive_rate']} "
            f"snapshots={info['snapshot_from']}..{info['snapshot_to']}",
            flush=True,
        )
    return 0
