"""Small synthetic gold tables with the gold schema's shape and a planted churn signal, for step tests.

Stand-in for the generator -> ingestion -> dbt chain: the columns mirror what `_gold.yml` documents for
`customer_features` and `churn_training_set` (see SCHEMA_YML), weekly snapshots, and a label that
depends on recency, satisfaction, tickets and price sensitivity the way the source generator plants it.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SCHEMA_YML = """
version: 2
models:
  - name: customer_features
    description: one row per customer per snapshot date
    columns:
      - {name: customer_id, data_type: bigint, description: customer key}
      - {name: snapshot_date, data_type: date, description: snapshot the features describe}
      - {name: tenure_days, data_type: int, description: days since signup}
      - {name: orders_90d, data_type: bigint, description: orders in the 90 days before the snapshot}
      - {name: spend_90d, data_type: double, description: spend in the 90 days before the snapshot}
      - {name: days_since_last_order, data_type: int, description: recency}
      - {name: tickets_90d, data_type: bigint, description: support tickets in 90 days}
      - {name: avg_satisfaction, data_type: double, description: mean ticket satisfaction}
      - {name: price_sensitivity, data_type: "decimal(6,3)", description: share of discounted items}
      - {name: region, data_type: string, description: customer region}
  - name: churn_training_set
    description: features plus the churn label where the 90-day window is complete
    columns:
      - {name: customer_id, data_type: bigint, description: customer key}
      - {name: snapshot_date, data_type: date, description: snapshot the features describe}
      - {name: tenure_days, data_type: int, description: days since signup}
      - {name: orders_90d, data_type: bigint, description: orders in the 90 days before the snapshot}
      - {name: spend_90d, data_type: double, description: spend in the 90 days before the snapshot}
      - {name: days_since_last_order, data_type: int, description: recency}
      - {name: tickets_90d, data_type: bigint, description: support tickets in 90 days}
      - {name: avg_satisfaction, data_type: double, description: mean ticket satisfaction}
      - {name: price_sensitivity, data_type: "decimal(6,3)", description: share of discounted items}
      - {name: region, data_type: string, description: customer region}
      - {name: churned, data_type: int, description: 1 if no order in the 90 days after the snapshot}
"""
FEATURES = (
    "tenure_days",
    "orders_90d",
    "spend_90d",
    "days_since_last_order",
    "tickets_90d",
    "avg_satisfaction",
    "price_sensitivity",
)


def write_schema(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "_gold.yml"
    path.write_text(SCHEMA_YML)
    return path


def gold_frames(
    customers: int = 400,
    snapshots: int = 36,
    seed: int = 7,
    shuffle_labels: bool = False,
    start: date = date(2025, 1, 6),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customer_features, churn_training_set). The training set lacks the last 13 weekly snapshots,
    whose 90-day label windows are not complete yet."""
    rng = np.random.default_rng(seed)
    satisfaction = rng.uniform(1, 5, customers)
    sensitivity = rng.uniform(0, 1, customers)
    activity = rng.gamma(2.0, 1.0, customers)
    rows = []
    for week in range(snapshots):
        snap = start + timedelta(weeks=week)
        orders = rng.poisson(activity * 3)
        tickets = rng.poisson(0.3 + (5 - satisfaction) * 0.3)
        recency = np.minimum(rng.exponential(30 / (activity + 0.1)), 365).astype(int)
        logit = (
            -1.0
            + 0.04 * recency
            - 0.8 * (satisfaction - 3)
            + 0.5 * tickets
            + 1.5 * sensitivity
            - 0.3 * orders
        )
        churned = (rng.uniform(size=customers) < 1 / (1 + np.exp(-logit))).astype(int)
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(1, customers + 1, dtype="int64"),
                    "snapshot_date": snap,
                    "tenure_days": (200 + week * 7 + rng.integers(0, 500, customers)).astype("int32"),
                    "orders_90d": orders.astype("int64"),
                    "spend_90d": np.round(orders * rng.uniform(10, 80, customers), 2),
                    "days_since_last_order": recency.astype("int32"),
                    "tickets_90d": tickets.astype("int64"),
                    "avg_satisfaction": np.round(satisfaction + rng.normal(0, 0.3, customers), 3),
                    "price_sensitivity": np.round(sensitivity, 3),
                    "region": rng.choice(["north", "south", "east", "west"], customers),
                    "churned": churned,
                }
            )
        )
    features = pd.concat(rows, ignore_index=True)
    complete = sorted(features["snapshot_date"].unique())[: max(0, snapshots - 13)]
    training = features[features["snapshot_date"].isin(complete)].copy()
    if shuffle_labels:
        training["churned"] = np.random.default_rng(seed + 1).permutation(training["churned"].to_numpy())
    return features.drop(columns=["churned"]), training


def write_gold(folder: Path, **kwargs: object) -> Path:
    """Write both tables as Parquet folders under `folder` (the InputDataUri layout); return `folder`."""
    features, training = gold_frames(**kwargs)  # type: ignore[arg-type]
    for name, frame in (("customer_features", features), ("churn_training_set", training)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder / name / "part-00000.parquet", index=False)
    return folder
