"""A pipeline's life through the runner port, the same on both adapters: publish lakeml's definition
(upsert), then execute it (start, then wait to its end). `lakeml pipeline upsert|run`, `lakeml score` and
the flow's train stage are these calls; which runner executes — the local one or SageMaker — is the
wiring's choice, never this module's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lakeml.core.errors import ConfigError
from ml_pipelines.pipeline import Target, definition, pipeline_name
from ml_pipelines.runner.port import ExecutionStatus, PipelineRunner, StepCallback, UpsertResult

if TYPE_CHECKING:
    from lakeml.core.settings import Settings

DESCRIPTIONS = {False: "lakeml churn training", True: "lakeml churn batch scoring"}


def publish(settings: Settings, pipelines: PipelineRunner, *, batch: bool = False) -> UpsertResult:
    """Upsert lakeml's training (or batch-scoring) definition, built for these settings.

    A runner that executes on AWS gets no definition naming placeholder resources: the settings to
    fill in are named instead."""
    target = Target.from_settings(settings)
    missing = target.placeholders()
    if pipelines.remote and missing:
        raise ConfigError(
            f"{', '.join(missing)} not set: the definition would name placeholder AWS resources. Set them "
            "(or LAKEML_AWS__ACCOUNT_ID for the default names) from infra's outputs before `upsert`"
        )
    name = pipeline_name(batch=batch)
    return pipelines.upsert(name, definition(target, batch=batch), description=DESCRIPTIONS[batch])


def execute(
    pipelines: PipelineRunner,
    name: str,
    parameters: Mapping[str, str] | None = None,
    *,
    on_step: StepCallback | None = None,
    timeout_s: float | None = None,
) -> ExecutionStatus:
    """Start an execution of an upserted pipeline and wait for its end; the final status."""
    execution = pipelines.start(name, parameters, on_step=on_step)
    return pipelines.wait(execution, timeout_s=timeout_s, on_step=on_step)
