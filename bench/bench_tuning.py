"""Tuning trials per second in the local runner: warm worker processes against a fresh process per job.

The Tune step of lakeml's own training definition (`ml_pipelines.pipeline.definition()`: the real
`train` command, ranges, static hyperparameters, Auto early stopping, seed), alone, on synthetic
train/validation channels of the default scale's size (BENCH_TUNING_ROWS training rows, a quarter as
many validation rows; gold schema, planted churn propensity as in `bench_train`), run by the local
runner's real entry (`LocalRunner.run`) once with LAKEML_RUNNER__JOB_PROCESSES=fresh and once with warm
workers, BENCH_TUNING_TRIALS trials (default 10), 2 at a time. Per mode: wall seconds, trials/s,
seconds inside the jobs, the runner's overhead (wall - time covered by jobs), and whether both modes
produced the same trials. Reproduce: `.venv/bin/python -m bench tuning` (part of `make bench`).
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import print_table, write_result

TRIALS = int(os.environ.get("BENCH_TUNING_TRIALS", "10"))
PARALLEL = int(os.environ.get("BENCH_TUNING_PARALLEL", "2"))
ROWS = int(os.environ.get("BENCH_TUNING_ROWS", "5000"))


def write_channels(folder: Path, rows: int) -> tuple[Path, Path]:
    """Train and validation channels as Prepare writes them (Parquet + features.json)."""
    from bench.bench_train import split_frame, write_split

    train, validation = folder / "train", folder / "validation"
    write_split(train, split_frame(rows, date(2025, 1, 6), seed=1))
    write_split(validation, split_frame(max(500, rows // 4), date(2025, 4, 7), seed=2))
    return train, validation


def tuning_definition(train: Path, validation: Path, full: dict[str, Any] | None = None) -> dict[str, Any]:
    """The training definition's Tune step alone (of `full`, default: built now), its channels pointed at
    local folders."""
    if full is None:
        from ml_pipelines.pipeline import definition

        full = definition()
    tune = copy.deepcopy(next(step for step in full["Steps"] if step["Name"] == "Tune"))
    channels = {"train": str(train), "validation": str(validation)}
    for channel in tune["Arguments"]["TrainingJobDefinition"]["InputDataConfig"]:
        channel["DataSource"]["S3DataSource"]["S3Uri"] = channels[channel["ChannelName"]]
    tune.pop("DependsOn", None)
    used = {"TrainingInstanceType", "MaxTuningJobs", "MaxParallelTuningJobs"}
    parameters = [p for p in full["Parameters"] if p["Name"] in used]
    return {**full, "Parameters": parameters, "Steps": [tune]}


def run_tuning(raw: dict[str, Any], mode: str, trials: int, parallel: int) -> dict[str, Any]:
    """One execution of the Tune step in `mode` (warm | fresh) under the current LAKEML_HOME."""
    os.environ["LAKEML_RUNNER__JOB_PROCESSES"] = mode
    from lakeml.core.settings import load_settings
    from ml_pipelines.runner.definition import load
    from ml_pipelines.runner.engine import LocalRunner

    started = time.monotonic()
    record = LocalRunner(load_settings(), load(copy.deepcopy(raw))).run(
        {"MaxTuningJobs": str(trials), "MaxParallelTuningJobs": str(parallel)}
    )
    wall = time.monotonic() - started
    step = record.steps[0]
    jobs = step.jobs or []
    inside = float(step.script_seconds or 0.0)
    return {
        "mode": mode,
        "status": record.status,
        "trials": len(jobs),
        "stopped_early": sum(j["TrainingJobStatus"] == "Stopped" for j in jobs),
        "failed": sum(j["TrainingJobStatus"] == "Failed" for j in jobs),
        "wall_s": round(wall, 2),
        "trials_per_s": round(len(jobs) / wall, 3),
        "in_jobs_s": round(inside, 2),
        "overhead_s": round(wall - inside, 2),
        "overhead_pct": round(100 * (wall - inside) / wall, 1),
        "best_auc": step.metrics.get("best_validation:auc"),
        "_trials": sorted(
            (
                tuple(sorted(j["TunedHyperParameters"].items())),
                j.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value"),
            )
            for j in jobs
        ),
    }


def main() -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="lakeml-bench-tuning-") as tmp:
        os.environ["LAKEML_HOME"] = str(Path(tmp) / "home")
        train, validation = write_channels(Path(tmp) / "data", ROWS)
        raw = tuning_definition(train, validation)
        # the same page cache for both modes: read the interpreter and the libraries once beforehand
        subprocess.run(
            [sys.executable, "-c", "import xgboost, pandas, pyarrow, lakeml.jobs.train"], check=True
        )
        rows = [run_tuning(raw, mode, TRIALS, PARALLEL) for mode in ("fresh", "warm")]
    same = rows[0]["_trials"] == rows[1]["_trials"]
    for row in rows:
        row.pop("_trials")
    print_table(
        f"{TRIALS} tuning trials of the churn model, {PARALLEL} at a time, {ROWS} training rows", rows
    )
    speedup = rows[0]["wall_s"] / rows[1]["wall_s"]
    print(f"\nwarm workers: {speedup:.1f}x the trials/s of a fresh process per job; same trials: {same}")
    print(
        f"load average before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    write_result(
        "tuning",
        ".venv/bin/python -m bench tuning",
        rows,
        packages=("xgboost-cpu", "optuna", "pandas", "pyarrow"),
        trials=TRIALS,
        parallel=PARALLEL,
        training_rows=ROWS,
        speedup=round(speedup, 2),
        same_trials=same,
        load_average={"before": load_before, "after": os.getloadavg()},  # other work on the machine
        data="synthetic rows with the gold schema and a planted churn propensity (not generator output)",
    )


if __name__ == "__main__":
    main()
