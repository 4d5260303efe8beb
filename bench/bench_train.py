"""Training cost and quality of the churn model at 10k / 100k / 1M training rows.

Runs the real step command lines (`python -m lakeml.jobs.train`, then `... evaluate`) with
SageMaker's environment mapped to a temp folder, default hyperparameters (hist, early stopping on
validation AUC), all cores. Data: synthetic rows with every column of the gold schema
(`dbt_project/models/gold/_gold.yml`) and a planted churn propensity (tests/ml_pipelines/synthetic.py),
not generator output — so AUC here shows the method scales, not the business result.
Reproduce: `make bench` or `.venv/bin/python -m bench train` (BENCH_TRAIN_ROWS=10000,100000 to choose).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import print_table, write_result

REPO = Path(__file__).resolve().parents[1]
SIZES = tuple(int(n) for n in os.environ.get("BENCH_TRAIN_ROWS", "10000,100000,1000000").split(","))


def split_frame(rows: int, snapshot: date, seed: int) -> pd.DataFrame:
    """`rows` independent customer-snapshots on one date, every documented column, label from propensity."""
    from ml_pipelines.features import training_spec
    from tests.ml_pipelines.synthetic import _column_values

    spec = training_spec()
    rng = np.random.default_rng(seed)
    propensity = rng.normal(0, 1, rows)
    frame = pd.DataFrame(
        {c.name: _column_values(c, rng, rows, propensity) for c in spec.columns if c.role == "feature"}
    )
    frame.insert(0, spec.id_column, np.arange(rows, dtype="int64"))
    frame.insert(1, spec.event_time_column, snapshot)
    frame[spec.label_column] = (rng.uniform(size=rows) < 1 / (1 + np.exp(-(2.5 * propensity - 0.4)))).astype(
        "int8"
    )
    return frame


def write_split(folder: Path, frame: pd.DataFrame) -> None:
    from ml_pipelines.features import training_spec

    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "part-0000.parquet", index=False)
    training_spec().write(folder / "features.json")


def run(module: str, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", f"lakeml.jobs.{module}", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def measure(rows: int, work: Path) -> dict[str, Any]:
    held_out = max(2_000, min(rows // 5, 200_000))
    data = work / "data"
    write_split(data / "train", split_frame(rows, date(2025, 1, 6), seed=1))
    write_split(data / "validation", split_frame(held_out, date(2025, 4, 7), seed=2))
    write_split(data / "test", split_frame(held_out, date(2025, 9, 1), seed=3))
    opt_ml = work / "opt-ml"
    started = time.perf_counter()
    run(
        "train",
        {
            "LAKEML_CONTAINER__OPT_ML": str(opt_ml),
            "SM_CHANNEL_TRAIN": str(data / "train"),
            "SM_CHANNEL_VALIDATION": str(data / "validation"),
        },
    )
    wall = time.perf_counter() - started
    metadata = json.loads((opt_ml / "model" / "metadata.json").read_text())
    with tarfile.open(work / "model.tar.gz", "w:gz") as tar:
        for path in (opt_ml / "model").iterdir():
            tar.add(path, arcname=path.name)
    run(
        "evaluate",
        {"LAKEML_CONTAINER__OPT_ML": str(work / "eval")},
        "--model",
        str(work / "model.tar.gz"),
        "--test",
        str(data / "test"),
        "--output",
        str(work / "eval"),
    )
    evaluation = json.loads((work / "eval" / "evaluation.json").read_text())
    return {
        "training_rows": rows,
        "features": len(json.loads((data / "train" / "features.json").read_text())["features"]),
        "train_seconds": metadata["training_seconds"],
        "step_wall_seconds": round(wall, 2),
        "trees": metadata["best_iteration"] + 1,
        "validation_auc": round(metadata["validation_auc"], 4),
        "test_auc": evaluation["metrics"]["auc"]["value"],
        "test_pr_auc": evaluation["metrics"]["pr_auc"]["value"],
    }


def main() -> None:
    rows = []
    for size in SIZES:
        with tempfile.TemporaryDirectory(prefix=f"lakeml-bench-train-{size}-") as tmp:
            rows.append(measure(size, Path(tmp)))
            print_table("training (XGBoost hist, early stopping on validation AUC)", rows[-1:])
    print_table("training cost and AUC by training rows", rows)
    write_result(
        "train",
        ".venv/bin/python -m bench train",
        rows,
        packages=("xgboost-cpu", "pandas", "pyarrow"),
        data="synthetic rows with the gold schema and a planted churn propensity (not generator output)",
        hyperparameters="lakeml.jobs.train defaults: eta 0.1, max_depth 6, num_round 500, "
        "early_stopping_rounds 30, all cores",
    )


if __name__ == "__main__":
    main()
