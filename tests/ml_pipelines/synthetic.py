"""Small synthetic gold tables with the gold schema and a planted churn signal, for step tests.

Stand-in for the generator -> ingestion -> dbt chain: every column `dbt_project/models/gold/_gold.yml`
documents for `customer_features` and `churn_training_set` (read with `ml_pipelines.features`, so the
frames follow the schema when it changes), weekly snapshots, and a label driven by a per-customer churn
propensity that a few features (recency, satisfaction, tickets, discounts, orders) reflect.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ml_pipelines.features import (
    FEATURES_MODEL,
    GOLD_SCHEMA,
    TRAINING_MODEL,
    Column,
    load_models,
    spec_from_columns,
)

SIGNAL = (
    "days_since_last_order",
    "avg_satisfaction_365d",
    "tickets_90d",
    "discount_share_365d",
    "orders_90d",
)


def _column_values(column: Column, rng: np.random.Generator, n: int, propensity: np.ndarray) -> np.ndarray:
    """Values of one documented column; the signal columns move with the churn propensity."""
    base = column.data_type.lower().split("(")[0]
    weight = {
        "days_since_last_order": 30.0,
        "avg_satisfaction_365d": -0.8,
        "tickets_90d": 0.8,
        "discount_share_365d": 0.15,
        "orders_90d": -1.5,
    }.get(column.name, 0.0)
    noise = rng.normal(0, 1, n)
    if base in ("boolean", "bool"):
        return rng.uniform(size=n) < 0.5
    if base in ("string", "varchar"):
        return rng.choice(["north", "south", "east", "west"], n)
    value = np.abs(3 + weight * propensity + noise * (abs(weight) or 1.0) * 0.5)
    if base in ("int", "integer", "bigint", "smallint", "tinyint"):
        return np.round(value).astype("int64" if base == "bigint" else "int32")
    return np.round(value, 4)


def gold_frames(
    customers: int = 400,
    snapshots: int = 36,
    seed: int = 7,
    shuffle_labels: bool = False,
    start: date = date(2025, 1, 6),
    schema: Path = GOLD_SCHEMA,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customer_features, churn_training_set) with every column `_gold.yml` documents, weekly snapshots.
    The training set lacks the last 13 snapshots, whose 90-day label windows are not complete yet."""
    rng = np.random.default_rng(seed)
    models = load_models(schema)
    spec = spec_from_columns(models[TRAINING_MODEL], model=TRAINING_MODEL, need_label=True)
    feature_columns = [c for c in models[FEATURES_MODEL] if c.role in ("feature", "ignored")]
    trait = rng.normal(0, 1, customers)  # a customer's lasting churn propensity
    frames = []
    for week in range(snapshots):
        propensity = 0.9 * trait + 0.3 * rng.normal(0, 1, customers)
        frame = pd.DataFrame({c.name: _column_values(c, rng, customers, propensity) for c in feature_columns})
        frame.insert(0, spec.id_column, np.arange(1, customers + 1, dtype="int64"))
        frame.insert(1, spec.event_time_column, start + timedelta(weeks=week))
        churn_probability = 1 / (1 + np.exp(-(2.5 * propensity - 0.4)))
        frame[spec.label_column] = (rng.uniform(size=customers) < churn_probability).astype("int32")
        frames.append(frame)
    features = pd.concat(frames, ignore_index=True)
    complete = sorted(features[spec.event_time_column].unique())[: max(0, snapshots - 13)]
    training = features[features[spec.event_time_column].isin(complete)].copy()
    if shuffle_labels:
        training[spec.label_column] = np.random.default_rng(seed + 1).permutation(
            training[spec.label_column].to_numpy()
        )
    for column in models[TRAINING_MODEL]:  # training-only bookkeeping, e.g. label_window_end (a date)
        if column.name not in training.columns:
            if column.data_type.lower() == "date":
                training[column.name] = training[spec.event_time_column] + timedelta(days=90)
            else:
                training[column.name] = _column_values(column, rng, len(training), np.zeros(len(training)))
    training = training[[c.name for c in models[TRAINING_MODEL]]]
    return features[[c.name for c in models[FEATURES_MODEL]]], training


def write_gold(folder: Path, **kwargs: object) -> Path:
    """Write both tables under `folder` the way dbt-spark lays them out: Hive partitions by snapshot date
    (`snapshot_date=YYYY-MM-DD/part-….snappy.parquet`, the column itself only in the folder name) and
    Spark's `_SUCCESS` marker. Returns `folder` (the InputDataUri layout)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    features, training = gold_frames(**kwargs)  # type: ignore[arg-type]
    for name, frame in (("customer_features", features), ("churn_training_set", training)):
        target = folder / name
        frame = frame.assign(snapshot_date=frame["snapshot_date"].astype(str))
        ds.write_dataset(
            pa.Table.from_pandas(frame, preserve_index=False),
            target,
            format="parquet",
            partitioning=["snapshot_date"],
            partitioning_flavor="hive",
            basename_template="part-{i}-c000.snappy.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        (target / "_SUCCESS").write_text("")
    return folder
