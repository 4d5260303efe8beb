"""The record of one local execution: what ran, how it ended, and what each step left behind.

One document per execution, rewritten after every step (`records.ExecutionStore`), read by the
`lakeml pipeline executions|logs|graph` commands, the graph page and the pipeline runner port's local
adapter. Field names are those of the JSON on disk, so records written by earlier versions still load.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StepState = Literal["Executing", "Succeeded", "Failed"]
ExecutionState = Literal["Executing", "Succeeded", "Failed"]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Registered(BaseModel):
    """The model version a RegisterModel step created."""

    group: str
    version: int
    status: str


class StepRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    type: str
    status: StepState = "Executing"
    started_at: str = Field(default_factory=now)
    ended_at: str | None = None
    seconds: float | None = None
    attempts: int = 0
    cache_hit: bool = False
    cached_from: str | None = None
    failure_reason: str | None = None
    inputs: Any = None  # the step's arguments, resolved
    properties: dict[str, Any] | None = None  # what later steps can Get (Describe*-shaped)
    metrics: dict[str, float] = Field(default_factory=dict)
    registered: Registered | None = None
    outcome: bool | None = None  # Condition steps
    job_dir: str | None = None
    log: str | None = None
    script_seconds: float | None = None  # seconds inside the job's own process(es)
    jobs: list[dict[str, Any]] | None = None  # tuning: one entry per training job
    retries: list[dict[str, Any]] = Field(default_factory=list)


class ExecutionRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    execution_id: str
    pipeline: str
    status: ExecutionState = "Executing"
    started_at: str = Field(default_factory=now)
    ended_at: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    failure_reason: str | None = None
    failed_step: str | None = None
    failed_by_fail_step: bool = False  # ended by a FailStep (an outcome the definition chose)
    registered: Registered | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    graph: dict[str, list[str]] = Field(default_factory=dict)  # step -> the steps it waits for
    types: dict[str, str] = Field(default_factory=dict)  # step -> step type
    not_executed: list[str] = Field(default_factory=list)  # the losing branches of conditions

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)

    def fail(self, step: StepRecord, reason: str, *, by_fail_step: bool) -> None:
        step.status = "Failed"
        step.failure_reason = reason
        self.status = "Failed"
        self.failure_reason = reason
        self.failed_step = step.name
        self.failed_by_fail_step = by_fail_step
