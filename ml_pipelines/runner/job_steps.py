"""Processing, Training and Tuning steps: jobs run on this machine (`jobs`, `tuning`) through the
execution's launcher (warm worker processes, or a fresh process per job)."""

from __future__ import annotations

from typing import Any

from ml_pipelines.runner import tuning
from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.definition import Step
from ml_pipelines.runner.errors import UnsupportedFeature
from ml_pipelines.runner.executor import StepCall, StepOutput
from ml_pipelines.runner.jobs import run_processing, run_training


class ProcessingExecutor:
    control = False

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config

    def check(self, step: Step, where: str) -> None:
        if not step.arguments.get("AppSpecification", {}).get("ContainerEntrypoint"):
            raise UnsupportedFeature(
                f"{where}: a processing job without ContainerEntrypoint cannot run locally"
            )

    def run(self, call: StepCall) -> StepOutput:
        result, properties = run_processing(
            self.config, call.job_name, call.job_dir, call.arguments, launcher=call.launcher
        )
        return StepOutput(properties, log=str(result.log), script_seconds=round(result.seconds, 3))


class TrainingExecutor:
    control = False

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config

    def check(self, step: Step, where: str) -> None:
        """Training fields are checked when the definition is loaded."""

    def run(self, call: StepCall) -> StepOutput:
        result, properties = run_training(
            self.config, call.job_name, call.job_dir, call.arguments, launcher=call.launcher
        )
        return StepOutput(
            properties,
            log=str(result.log),
            script_seconds=round(result.seconds, 3),
            metrics=result.final_metrics(),
        )


class TuningExecutor:
    control = False

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config

    def check(self, step: Step, where: str) -> None:
        tuning.check(step.arguments, where)

    def run(self, call: StepCall) -> StepOutput:
        properties, jobs = tuning.run_tuning(
            self.config, call.job_name, call.job_dir, call.arguments, launcher=call.launcher
        )
        objective = properties["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
        return StepOutput(
            properties,
            jobs=[{k: v for k, v in j.items() if k not in ("Properties", "Interval")} for j in jobs],
            script_seconds=round(covered([j["Interval"] for j in jobs if "Interval" in j]), 3),
            metrics={f"best_{objective['MetricName']}": objective["Value"]},
        )


def covered(intervals: list[Any]) -> float:
    """Seconds during which at least one job process ran (parallel tuning jobs overlap)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total
