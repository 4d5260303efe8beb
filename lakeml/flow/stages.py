"""The daily flow, declared once: its stages in order, each a function of the ports it needs.

Locally `LocalOrchestrator` runs these functions in this process; on AWS the Step Functions state
machine runs the same stages as Lambda/ECS/SageMaker tasks (rendering this declaration to ASL is
issue 12). Each stage returns a JSON-able document with a one-line `summary`; a stage that raises stops
the flow and its error names what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings
from lakeml.flow.port import ProgressFn


class FlowPorts(Protocol):
    """The ports the stages use (the wiring's adapters object has them all)."""

    @property
    def lake(self) -> Any: ...

    @property
    def watermarks(self) -> Any: ...

    @property
    def source(self) -> Any: ...

    @property
    def transform_target(self) -> Any: ...

    @property
    def pipelines(self) -> Any: ...

    @property
    def notifier(self) -> Any: ...

    @property
    def twin(self) -> Any: ...


@dataclass
class StageContext:
    settings: Settings
    ports: FlowPorts
    params: dict[str, str] = field(default_factory=dict)
    progress: ProgressFn = lambda _task, _done, _total: None


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[StageContext], dict[str, Any]]


def source_stage(ctx: StageContext) -> dict[str, Any]:
    """Seed the local source twin when it is empty; leave it alone otherwise."""
    raise LakemlError("source stage: being rewired (issue 11)")


def views_stage(ctx: StageContext) -> dict[str, Any]:
    """Build the Snowflake-side extraction views (dbt, models tagged snowflake) in the source."""
    raise LakemlError("views stage: being rewired (issue 11)")


def ingest_stage(ctx: StageContext) -> dict[str, Any]:
    """Land new and changed source rows in bronze (the same call as the Lambda handler)."""
    raise LakemlError("ingest stage: being rewired (issue 11)")


def transform_stage(ctx: StageContext) -> dict[str, Any]:
    """dbt build bronze -> silver -> gold; a failed model or test stops the run before training."""
    raise LakemlError("transform stage: being rewired (issue 11)")


def train_stage(ctx: StageContext) -> dict[str, Any]:
    """The SageMaker training pipeline through the pipeline runner port."""
    raise LakemlError("train stage: being rewired (issue 11)")


STAGES: tuple[Stage, ...] = (
    Stage("source", "local Snowflake twin with churn data", source_stage),
    Stage("views", "Snowflake extraction views (dbt)", views_stage),
    Stage("ingest", "Snowflake -> bronze, exactly once", ingest_stage),
    Stage("transform", "dbt build: bronze -> silver -> gold, tests as gates", transform_stage),
    Stage("train", "SageMaker training pipeline", train_stage),
)
