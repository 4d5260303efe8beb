"""Local pipeline wall time at default scale, per step, and the runner's own overhead.

The whole chain at default scale (seed → ingest → dbt → training pipeline with ≥ 10 tuning trials), then
per step: wall seconds, seconds spent inside the steps' own processes (the image's commands), and the
runner's overhead = total - time in those processes (input/output copies, model packing, Optuna,
bookkeeping), and the Tune step's trials/s. Jobs run in warm worker processes unless
LAKEML_RUNNER__JOB_PROCESSES=fresh (`bench_tuning` compares the two). Reproduce: `make bench` or
`.venv/bin/python -m bench pipeline`.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from bench.common import print_table, write_result

TRIALS = int(os.environ.get("BENCH_PIPELINE_TRIALS", "10"))


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["LAKEML_HOME"] = home
        from lakeml.core.settings import load_settings
        from lakeml.flow.stages import STAGES, StageContext
        from lakeml.wiring import adapters

        settings = load_settings()
        context = StageContext(settings=settings, ports=adapters(settings))
        prepare: dict[str, float] = {}
        for stage in STAGES:
            if stage.name == "train":
                continue
            started = time.monotonic()
            stage.run(context)
            prepare[stage.name] = time.monotonic() - started

        from lakeml.twins.snowflake.server import stop
        from lakeml.wiring import adapters
        from ml_pipelines.runner.config import RunnerConfig
        from ml_pipelines.runner.records import ExecutionStore
        from ml_pipelines.training import train

        ports = adapters(settings)
        started = time.monotonic()
        outcome = train(settings, ports.pipelines, ports.lake, {"MaxTuningJobs": str(TRIALS)})
        total = time.monotonic() - started
        stop(settings)
        # The local runner's own record has what the port's status does not: seconds inside the jobs.
        record = ExecutionStore(RunnerConfig.from_settings(settings).pipelines_dir).get(outcome.execution_id)
    rows: list[dict[str, Any]] = []
    for step in record.steps:
        inside = float(step.script_seconds or 0.0)
        rows.append(
            {
                "step": step.name,
                "type": step.type,
                "status": step.status,
                "seconds": step.seconds,
                "in_process_s": round(inside, 2),
                "jobs": len(step.jobs or []) or "",
            }
        )
    tune = next((s for s in record.steps if s.type == "Tuning"), None)
    trials = len(tune.jobs or []) if tune else 0
    trials_per_s = round(trials / tune.seconds, 3) if tune and tune.seconds else None
    inside_total = sum(r["in_process_s"] for r in rows)
    overhead = total - inside_total
    rows.append(
        {
            "step": "TOTAL",
            "type": "",
            "status": record.status,
            "seconds": round(total, 2),
            "in_process_s": round(inside_total, 2),
            "jobs": "",
        }
    )
    print_table(f"local training pipeline at default scale, {TRIALS} tuning trials", rows)
    print(f"\nrunner overhead: {overhead:.2f} s of {total:.2f} s = {100 * overhead / total:.1f} %")
    if tune and trials_per_s is not None:
        mode = settings.runner.job_processes
        print(f"tuning: {trials} trials in {tune.seconds} s = {trials_per_s} trials/s ({mode} job processes)")
    print("before the pipeline: " + ", ".join(f"{k} {v:.1f} s" for k, v in prepare.items()))
    write_result(
        "pipeline",
        "make bench  # or: .venv/bin/python -m bench pipeline",
        rows,
        packages=("xgboost-cpu", "optuna", "sagemaker-mlops"),
        trials=TRIALS,
        total_seconds=round(total, 2),
        overhead_seconds=round(overhead, 2),
        overhead_percent=round(100 * overhead / total, 1),
        tuning_trials=trials,
        tuning_trials_per_s=trials_per_s,
        job_processes=settings.runner.job_processes,
        prepare_seconds=prepare,
        status=record.status,
        failure_reason=record.failure_reason,
    )


if __name__ == "__main__":
    main()
