"""The one table of step executors: step type -> executor, used by preflight and by the run."""

from __future__ import annotations

from ml_pipelines.runner.control_steps import ConditionExecutor, FailExecutor
from ml_pipelines.runner.executor import Executor, RunContext
from ml_pipelines.runner.job_steps import ProcessingExecutor, TrainingExecutor, TuningExecutor
from ml_pipelines.runner.model_steps import (
    LambdaExecutor,
    ModelExecutor,
    RegisterModelExecutor,
    TransformExecutor,
)


def table(context: RunContext) -> dict[str, Executor]:
    """Every step type the local runner executes (the same keys as `definition.STEP_FIELDS`)."""
    return {
        "Processing": ProcessingExecutor(context.config),
        "Training": TrainingExecutor(context.config),
        "Tuning": TuningExecutor(context.config),
        "Condition": ConditionExecutor(),
        "Fail": FailExecutor(),
        "RegisterModel": RegisterModelExecutor(context),
        "Model": ModelExecutor(context.config),
        "Transform": TransformExecutor(context),
        "Lambda": LambdaExecutor(context.config),
    }
