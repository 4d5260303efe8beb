"""AWS adapter of the orchestrator port: start the daily flow's state machine and follow its execution.

`lakeml run` with LAKEML_ENV=aws never runs a stage itself: it starts an execution of
`settings.aws.state_machine_arn` with the request as input (`FlowRequest.state_machine_input()`: tables and
SageMaker pipeline parameters), then reads the execution history, reporting each stage's state as a stage
when it exits, until the execution ends. The stages are the declaration's (`lakeml.flow.stages`), whose
states the rendered definition names after them; the helper states around them (polling, notifications)
are not stages. A stage's document is its entry in `$.results`. A failed execution's error and cause come
from the history, so the user sees why without opening the console.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from lakeml.core.aws import error_code
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.flow.port import FlowRequest, FlowResult, FlowStatus, ProgressFn, StageCallback, StageOutcome
from lakeml.flow.stages import STAGES

DECLARED_STAGES = tuple(s.name for s in STAGES if not s.local_only)

TERMINAL: dict[str, FlowStatus] = {
    "SUCCEEDED": "Succeeded",
    "FAILED": "Failed",
    "TIMED_OUT": "TimedOut",
    "ABORTED": "Aborted",
}
POLL_SECONDS = 5.0  # the longest wait between two looks at a running execution
FIRST_POLL_SECONDS = 0.25  # the first looks come quickly, then back off to POLL_SECONDS
DEFAULT_TIMEOUT_S = 6 * 3600.0  # the state machine's own TimeoutSeconds bounds a run; this bounds the wait


class StepFunctionsOrchestrator:
    def __init__(
        self,
        sfn: Any,
        state_machine_arn: str | None,
        *,
        poll_seconds: float = POLL_SECONDS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
        stages: Collection[str] | None = DECLARED_STAGES,
    ) -> None:
        """`stages`: the state names reported as stages (None: every state, for hand-written machines)."""
        self.stages = stages
        self.sfn = sfn
        self.state_machine_arn = state_machine_arn
        self.poll_seconds = poll_seconds
        self.timeout_s = timeout_s
        self.sleep = sleep

    def run(
        self,
        request: FlowRequest,
        *,
        on_stage: StageCallback | None = None,
        progress: ProgressFn | None = None,
    ) -> FlowResult:
        if not self.state_machine_arn:
            raise ConfigError(
                "aws.state_machine_arn is not set: `lakeml run` on aws starts the daily flow's Step Functions "
                "state machine; set LAKEML_AWS__STATE_MACHINE_ARN (`terraform output lakeml` prints it)"
            )
        try:
            started = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=execution_name(),
                input=json.dumps(request.state_machine_input()),
            )
        except Exception as exc:
            raise LakemlError(
                f"cannot start state machine {self.state_machine_arn}: {error_code(exc) or exc}"
            ) from None
        arn = started["executionArn"]
        return self._follow(arn, on_stage, progress)

    def _follow(self, arn: str, on_stage: StageCallback | None, progress: ProgressFn | None) -> FlowResult:
        result = FlowResult(execution_id=arn, status="Succeeded")
        seen = 0
        entered: dict[str, datetime] = {}
        deadline = time.monotonic() + self.timeout_s
        wait = min(FIRST_POLL_SECONDS, self.poll_seconds)
        while True:
            events = self._history(arn)
            for event in events[seen:]:
                self._on_event(event, entered, result, on_stage)
            seen = len(events)
            if progress:
                progress("state machine", len(result.stages), max(len(result.stages), len(entered)))
            status = self.sfn.describe_execution(executionArn=arn)["status"]
            if status in TERMINAL:
                # events written between the history read and the describe call
                for event in self._history(arn)[seen:]:
                    self._on_event(event, entered, result, on_stage)
                result.status = TERMINAL[status]
                if result.status != "Succeeded":
                    result.exit_code = 1
                    result.error = result.error or f"execution {arn} ended {status}"
                return result
            if time.monotonic() > deadline:
                raise LakemlError(
                    f"execution {arn} still running after {self.timeout_s:.0f} s; it goes on in Step Functions "
                    "(follow it in the console or with `aws stepfunctions describe-execution`)"
                )
            self.sleep(wait)
            wait = min(wait * 2, self.poll_seconds)

    def _history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.sfn.get_execution_history(
                executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
            )
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return sorted(events, key=lambda e: e["id"])

    def _on_event(
        self,
        event: dict[str, Any],
        entered: dict[str, datetime],
        result: FlowResult,
        on_stage: StageCallback | None,
    ) -> None:
        kind = event["type"]
        details: dict[str, Any]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            if self._is_stage(details["name"]):
                entered[details["name"]] = event["timestamp"]
        elif kind.endswith("StateExited"):
            details = event["stateExitedEventDetails"]
            name = details["name"]
            if not self._is_stage(name) or result.stage(name):
                return
            began = entered.get(name, event["timestamp"])
            document = _json(details.get("output"))
            caught = document.get("error") if isinstance(document, dict) else None
            if isinstance(caught, dict) and "Error" in caught:
                # the stage failed and its Catch took over (notify, then Fail): the stage is the failed one
                error = f"{caught['Error']}: {caught.get('Cause') or ''}".rstrip(": ")
                self._report(result, StageOutcome(name=name, status="Failed", summary=error), on_stage)
                result.failed_stage, result.error = name, error
                return
            results = document.get("results") if isinstance(document, dict) else None
            if isinstance(results, dict) and isinstance(results.get(name), dict):
                document = results[name]
            outcome = StageOutcome(
                name=name,
                status="Succeeded",
                seconds=round((event["timestamp"] - began).total_seconds(), 2),
                summary=str(document.get("summary", "done")) if isinstance(document, dict) else "done",
                document=document if isinstance(document, dict) else {"output": document},
            )
            self._report(result, outcome, on_stage)
        elif kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
            cause = details.get("cause") or ""
            result.error = f"{details.get('error', kind)}: {cause}".rstrip(": ")
            failed = next((n for n in reversed(entered) if not result.stage(n)), None)
            if failed:
                result.failed_stage = failed
                self._report(
                    result, StageOutcome(name=failed, status="Failed", summary=result.error), on_stage
                )

    @staticmethod
    def _report(result: FlowResult, outcome: StageOutcome, on_stage: StageCallback | None) -> None:
        result.stages.append(outcome)
        if on_stage:
            on_stage(outcome)

    def _is_stage(self, name: str) -> bool:
        return self.stages is None or name in self.stages


def execution_name() -> str:
    """A readable, unique execution name: the UTC start time (as the local flow's execution ids), then a
    random suffix so two runs started in the same second do not collide."""
    return datetime.now(UTC).strftime("lakeml-run-%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


def _json(text: str | None) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {"output": text}
