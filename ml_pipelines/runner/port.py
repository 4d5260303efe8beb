"""The pipeline runner port: where a pipeline definition is kept and who executes it.

Locally (`local.py`) upserted definitions are files under LAKEML_HOME and an execution is the local
runner interpreting the JSON, in this process; on AWS (`sagemaker.py`) they are SageMaker pipelines and
executions run there. Both speak in the same values — `UpsertResult`, `ExecutionStatus`, `StepStatus`,
`ExecutionSummary` — so `lakeml pipeline upsert|start|run|executions`, `lakeml score`, the flow's train
stage and the studio's Pipelines page are written once, and
`tests/contract/test_pipeline_runner.py` holds both adapters to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from lakeml.core.errors import UsageError

PipelineState = Literal["Executing", "Stopping", "Stopped", "Failed", "Succeeded"]
TERMINAL: frozenset[str] = frozenset({"Stopped", "Failed", "Succeeded"})


class PipelineNotFound(UsageError):
    """An execution was asked of a pipeline that was never upserted."""

    def __init__(self, name: str, where: str) -> None:
        super().__init__(
            f"pipeline {name} does not exist {where}; create it first with `lakeml pipeline upsert`"
        )
        self.name = name


class UpsertResult(BaseModel):
    pipeline: str
    arn: str
    action: Literal["created", "updated"]
    definition_bytes: int


class StepStatus(BaseModel):
    name: str
    type: str | None = None  # Processing, Training, Tuning, Condition, Fail, RegisterModel, …
    status: str  # Starting | Executing | Stopping | Stopped | Failed | Succeeded
    seconds: float | None = None
    failure_reason: str | None = None
    cache_hit: bool = False

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class RegisteredModel(BaseModel):
    """The model version the execution's RegisterModel step created."""

    group: str
    version: int
    status: str


class ExecutionStatus(BaseModel):
    execution_id: str  # what `start` returned: the reference `describe`/`wait` take
    pipeline: str
    status: PipelineState
    parameters: dict[str, str] = Field(default_factory=dict)  # at least those passed to `start`
    steps: list[StepStatus] = Field(default_factory=list)  # in the order they started
    failure_reason: str | None = None
    failed_step: str | None = None
    failed_by_fail_step: bool = False  # ended by a FailStep: an outcome the definition chose
    registered: RegisteredModel | None = None
    graph: str | None = None  # a page of the execution's DAG, where the adapter draws one
    logs_hint: str | None = None  # a command that shows the failed step's output

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def pipeline_execution_id(self) -> str:
        """SageMaker's `PipelineExecutionId` (what `Execution.PipelineExecutionId` resolves to)."""
        return self.execution_id.rsplit("/", 1)[-1]

    def step(self, name: str) -> StepStatus | None:
        return next((s for s in self.steps if s.name == name), None)

    def document(self) -> dict[str, Any]:
        """The `--json` document of an execution (`lakeml pipeline run`, `lakeml score`, `lakeml run`)."""
        return {
            "execution_id": self.execution_id,
            "status": self.status,
            "steps": [
                {
                    "name": s.name,
                    "type": s.type,
                    "status": s.status,
                    "seconds": s.seconds,
                    **({"cache_hit": True} if s.cache_hit else {}),
                }
                for s in self.steps
            ],
            "registered": self.registered.model_dump() if self.registered else None,
            "failure_reason": self.failure_reason,
            "graph": self.graph,
        }


class ExecutionSummary(BaseModel):
    """One execution as a listing shows it: enough to pick it, `describe` gives the rest."""

    execution_id: str  # what `start` returned (SageMaker: the execution ARN): `describe` takes it
    pipeline: str
    status: PipelineState
    started_at: str | None = None  # ISO 8601, UTC, milliseconds
    ended_at: str | None = None  # None while running, and on SageMaker (its listing has no end time)
    failure_reason: str | None = None
    registered: RegisteredModel | None = None  # where the listing knows it (the local records)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


StepCallback = Callable[[StepStatus], None]


class PipelineRunner(Protocol):
    @property
    def remote(self) -> bool:
        """True when executions run on AWS: the definition must then name real AWS resources."""
        ...

    def upsert(self, name: str, definition: dict[str, Any], *, description: str = "") -> UpsertResult:
        """Create the pipeline, or replace its definition when it exists."""
        ...

    def start(
        self, name: str, parameters: Mapping[str, str] | None = None, *, on_step: StepCallback | None = None
    ) -> str:
        """Start an execution; return its reference for `describe`/`wait`. Raise PipelineNotFound when
        `name` was never upserted. `on_step` hears of steps that start or end before `start` returns
        (the local adapter runs the whole execution inside `start`; SageMaker's runs remotely)."""
        ...

    def describe(self, execution: str) -> ExecutionStatus: ...

    def executions(self, pipeline: str | None = None, *, limit: int | None = None) -> list[ExecutionSummary]:
        """Executions of `pipeline` (of every pipeline when None), newest first, at most `limit` (all
        when None). Raise PipelineNotFound when a named pipeline was never upserted."""
        ...

    def wait(
        self, execution: str, *, timeout_s: float | None = None, on_step: StepCallback | None = None
    ) -> ExecutionStatus:
        """Follow the execution until it ends (Succeeded, Failed or Stopped) and return its status;
        `on_step` hears of each step change seen while waiting. Raise LakemlError after `timeout_s`."""
        ...
