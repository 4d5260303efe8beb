"""The orchestrator port: who runs the daily flow. Locally the stages run in this process, in order
(`local.py`); on AWS, Step Functions runs the state machine infra created and `lakeml run` follows it
(`stepfunctions.py`). Both report the same `FlowResult`, stage by stage, so `lakeml run` prints the same
thing wherever the flow ran; `tests/contract/test_orchestrator.py` holds them to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

StageStatus = Literal["Succeeded", "Failed"]
FlowStatus = Literal["Succeeded", "Failed", "TimedOut", "Aborted"]


class FlowRequest(BaseModel):
    """What one run of the flow is asked to do: which tables to ingest (empty: every configured table)
    and parameters for the training pipeline (K=V)."""

    tables: list[str] = Field(default_factory=list)
    pipeline_params: dict[str, str] = Field(default_factory=dict)

    def state_machine_input(self) -> dict[str, Any]:
        """The Step Functions execution input (`lakeml.flow.asl`): the parameters in SageMaker's
        `PipelineParameters` shape, which the state machine passes on as they are."""
        return {
            "tables": list(self.tables),
            "pipeline_params": [{"Name": k, "Value": v} for k, v in self.pipeline_params.items()],
        }


class StageOutcome(BaseModel):
    name: str
    status: StageStatus
    seconds: float = 0.0
    summary: str = ""
    document: dict[str, Any] = Field(default_factory=dict)  # the stage's own report (JSON-able)


class FlowResult(BaseModel):
    execution_id: str
    status: FlowStatus
    stages: list[StageOutcome] = Field(default_factory=list)
    failed_stage: str | None = None
    error: str | None = None
    exit_code: int = 0  # 2 when the failure was bad usage/configuration, 1 for failed work

    def stage(self, name: str) -> StageOutcome | None:
        return next((s for s in self.stages if s.name == name), None)


StageCallback = Callable[[StageOutcome], None]
ProgressFn = Callable[[str, int, int], None]


class Orchestrator(Protocol):
    def run(
        self,
        request: FlowRequest,
        *,
        on_stage: StageCallback | None = None,
        progress: ProgressFn | None = None,
    ) -> FlowResult:
        """Run the flow to its end; call `on_stage` as each stage finishes. A failed stage ends the run
        (the result says which and why); nothing is raised for a failed flow."""
        ...
