"""Hyperparameter tuning jobs locally: Optuna samples the declared ranges, training jobs run on this
machine (up to MaxParallelTrainingJobs at once, through the execution's launcher: warm worker processes
unless LAKEML_RUNNER__JOB_PROCESSES=fresh), the objective is read from each job's output with the
MetricDefinitions regexes, and Auto early stopping prunes jobs below the median at the same report.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.errors import DefinitionError, UnsupportedFeature
from ml_pipelines.runner.jobs import JobError, run_training
from ml_pipelines.runner.launch import Launcher

TUNING_CONFIG_FIELDS = {
    "Strategy",
    "ResourceLimits",
    "HyperParameterTuningJobObjective",
    "ParameterRanges",
    "TrainingJobEarlyStoppingType",
    "RandomSeed",
    "StrategyConfig",
    "TuningJobCompletionCriteria",
}
STRATEGIES = ("Bayesian", "Random", "Grid")


def check(arguments: dict[str, Any], where: str) -> None:
    """Fail before the run for tuning features the local runner does not implement."""
    config = arguments.get("HyperParameterTuningJobConfig", {})
    unknown = sorted(set(config) - TUNING_CONFIG_FIELDS)
    if unknown:
        raise UnsupportedFeature(f"{where}: tuning field(s) {', '.join(unknown)} are not supported locally")
    strategy = config.get("Strategy", "Bayesian")
    if strategy not in STRATEGIES:
        raise UnsupportedFeature(
            f"{where}: tuning strategy {strategy!r} is not supported locally ({', '.join(STRATEGIES)})"
        )
    for kind in ("ContinuousParameterRanges", "IntegerParameterRanges"):
        for item in config.get("ParameterRanges", {}).get(kind, []):
            if item.get("ScalingType", "Auto") not in ("Auto", "Linear", "Logarithmic"):
                raise UnsupportedFeature(
                    f"{where}: range {item.get('Name')}: ScalingType {item['ScalingType']!r} "
                    "is not supported locally (Auto, Linear, Logarithmic)"
                )
    objective = config.get("HyperParameterTuningJobObjective", {}).get("MetricName")
    definition = arguments.get("TrainingJobDefinition")
    if not definition:
        raise UnsupportedFeature(f"{where}: only a single TrainingJobDefinition is supported locally")
    names = {m["Name"] for m in definition.get("AlgorithmSpecification", {}).get("MetricDefinitions", [])}
    if objective not in names:
        raise DefinitionError(
            f"{where}: objective metric {objective!r} has no MetricDefinitions regex "
            f"(defined: {', '.join(sorted(names)) or 'none'})"
        )


def _sampler(strategy: str, seed: int) -> Any:
    import optuna

    if strategy in ("Random", "Grid"):  # Grid: every combination is enqueued, the sampler is never asked
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)


def _grid(ranges: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination, in a stable order (Optuna's GridSampler stops the study, which ask/tell can't)."""
    if ranges.get("ContinuousParameterRanges"):
        raise UnsupportedFeature("Grid tuning takes only categorical and integer ranges (as on SageMaker)")
    axes: dict[str, list[Any]] = {
        r["Name"]: list(r["Values"]) for r in ranges.get("CategoricalParameterRanges", [])
    }
    for r in ranges.get("IntegerParameterRanges", []):
        axes[r["Name"]] = list(range(int(r["MinValue"]), int(r["MaxValue"]) + 1))
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


def _suggest(trial: Any, ranges: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for r in ranges.get("ContinuousParameterRanges", []):
        log = r.get("ScalingType") == "Logarithmic"
        values[r["Name"]] = repr(
            trial.suggest_float(r["Name"], float(r["MinValue"]), float(r["MaxValue"]), log=log)
        )
    for r in ranges.get("IntegerParameterRanges", []):
        log = r.get("ScalingType") == "Logarithmic"
        values[r["Name"]] = str(trial.suggest_int(r["Name"], int(r["MinValue"]), int(r["MaxValue"]), log=log))
    for r in ranges.get("CategoricalParameterRanges", []):
        values[r["Name"]] = str(trial.suggest_categorical(r["Name"], list(r["Values"])))
    return values


def run_tuning(
    config: RunnerConfig,
    tuning_name: str,
    job_dir: Path,
    arguments: dict[str, Any],
    launcher: Launcher | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the tuning job; return its properties document and the per-job records."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tuning = arguments["HyperParameterTuningJobConfig"]
    definition = arguments["TrainingJobDefinition"]
    limits = tuning.get("ResourceLimits", {})
    max_jobs = int(limits.get("MaxNumberOfTrainingJobs", 1))
    parallel = max(1, min(int(limits.get("MaxParallelTrainingJobs", 1)), max_jobs))
    objective = tuning["HyperParameterTuningJobObjective"]
    metric, maximise = objective["MetricName"], objective.get("Type", "Maximize") == "Maximize"
    ranges = tuning.get("ParameterRanges", {})
    early_stopping = tuning.get("TrainingJobEarlyStoppingType", "Off") == "Auto"
    study = optuna.create_study(
        direction="maximize" if maximise else "minimize",
        sampler=_sampler(tuning.get("Strategy", "Bayesian"), int(tuning.get("RandomSeed", 0))),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=5)
        if early_stopping
        else optuna.pruners.NopPruner(),
    )
    if tuning.get("Strategy") == "Grid":
        combinations = _grid(ranges)
        for combination in combinations:
            study.enqueue_trial(combination)
        max_jobs = (
            min(max_jobs, len(combinations)) if limits.get("MaxNumberOfTrainingJobs") else len(combinations)
        )
    cpus = max(1, (os.cpu_count() or 1) // parallel)  # each parallel job's share, like one instance each
    lock = threading.Lock()
    records: list[dict[str, Any]] = []

    def one(index: int) -> None:
        with lock:
            trial = study.ask()
            tuned = _suggest(trial, ranges)
        job_name = f"{tuning_name}-{index + 1:03d}"
        job_arguments = {
            **definition,
            "HyperParameters": {**(definition.get("StaticHyperParameters") or {}), **tuned},
        }
        job_arguments.pop("StaticHyperParameters", None)

        def report(name: str, value: float, count: int) -> bool:
            if name != metric or not early_stopping:
                return False
            with lock:
                trial.report(value, count)
                return bool(trial.should_prune())

        record: dict[str, Any] = {"TrainingJobName": job_name, "TunedHyperParameters": tuned}
        try:
            result, properties = run_training(
                config,
                job_name,
                job_dir / job_name,
                job_arguments,
                on_metric=report,
                cpus=cpus,
                launcher=launcher,
            )
        except JobError as exc:
            record.update(TrainingJobStatus="Failed", FailureReason=str(exc))
            with lock:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                records.append(record)
            return
        final = result.final_metrics().get(metric)
        record.update(
            TrainingJobStatus=result.status,
            Seconds=round(result.seconds, 3),
            Interval=(result.started, result.started + result.seconds),
            ModelArtifacts=properties["ModelArtifacts"],
            Properties=properties,
        )
        with lock:
            if final is None:
                record.update(
                    TrainingJobStatus="Failed", FailureReason=f"objective metric {metric} never printed"
                )
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            elif result.status == "Stopped":
                record["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": metric, "Value": final}
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                record["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": metric, "Value": final}
                study.tell(trial, final)
            records.append(record)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, range(max_jobs)))
    ranked = sorted(
        (r for r in records if r["TrainingJobStatus"] == "Completed"),
        key=lambda r: r["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
        reverse=maximise,
    )
    if not ranked:
        reasons = "; ".join(
            f"{r['TrainingJobName']}: {r.get('FailureReason', r['TrainingJobStatus'])}" for r in records
        )
        raise JobError(f"no training job of {tuning_name} completed ({reasons})", "AlgorithmError")
    summaries = [{k: v for k, v in r.items() if k != "Properties"} for r in ranked]
    properties = {
        "HyperParameterTuningJobName": tuning_name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:local:000000000000:hyper-parameter-tuning-job/{tuning_name.lower()}",
        "HyperParameterTuningJobStatus": "Completed",
        "BestTrainingJob": summaries[0],
        "TrainingJobSummaries": summaries,
    }
    return properties, sorted(records, key=lambda r: r["TrainingJobName"])
