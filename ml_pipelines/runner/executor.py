"""What one step type does: `check` it before anything runs, `run` it when its turn comes.

The engine keeps one table of executors, step type -> executor (`executors.table`), and uses it for both:
preflight calls every step's `check` (so an unsupported feature fails the whole run up front, never
halfway), the run loop calls `run`. Job-like steps (`control = False`) get their arguments resolved and
go through the cache and the retry policies; control steps (Condition, Fail) decide the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ml_pipelines.runner.definition import Step
from ml_pipelines.runner.expressions import Resolver
from ml_pipelines.runner.record import Registered

if TYPE_CHECKING:
    from lakeml.core.settings import Settings
    from ml_pipelines.registry import ModelRegistry
    from ml_pipelines.runner.config import RunnerConfig
    from ml_pipelines.runner.launch import Launcher


class FailStepReached(Exception):
    """A FailStep ran: the execution ends Failed with the step's message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RunContext:
    """What executors need from outside the definition."""

    config: RunnerConfig
    settings: Settings
    registry: ModelRegistry | None = None  # RegisterModel steps need one


@dataclass(frozen=True)
class StepCall:
    step: Step
    resolver: Resolver
    arguments: Any = None  # resolved Arguments (job-like steps only)
    function_arn: Any = None  # resolved FunctionArn (Lambda steps)
    job_name: str = ""
    job_dir: Path = Path()
    launcher: Launcher | None = None  # how job steps start their commands (the execution's worker pool)

    @property
    def where(self) -> str:
        return f"step '{self.step.name}'"


@dataclass
class StepOutput:
    properties: dict[str, Any]  # what later steps can Get (shaped like the Describe* response)
    log: str | None = None
    script_seconds: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    jobs: list[dict[str, Any]] | None = None
    registered: Registered | None = None
    outcome: bool | None = None
    skip: list[str] = field(default_factory=list)  # steps that must not run (a condition's other branch)


class Executor(Protocol):
    control: bool

    def check(self, step: Step, where: str) -> None:
        """Raise DefinitionError / UnsupportedFeature for what this runner cannot execute."""
        ...

    def run(self, call: StepCall) -> StepOutput: ...
