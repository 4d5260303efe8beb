"""Local adapter of the orchestrator port: the stages of `lakeml.flow.stages`, in order, in this process.

A stage that raises ends the flow as Failed (the error names the stage), a critical notification says
so, and the stages already done keep their reports. A stage document with a `warning` sends a warning
notification and the flow goes on. A finished flow sends an info notification with every stage's one-line
summary — the same messages the state machine sends on AWS."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings
from lakeml.flow import stages as declaration
from lakeml.flow.port import FlowRequest, FlowResult, ProgressFn, StageCallback, StageOutcome
from lakeml.flow.stages import FlowPorts, Stage, StageContext
from lakeml.notify.port import Notification

log = logging.getLogger(__name__)


class LocalOrchestrator:
    def __init__(self, settings: Settings, ports: FlowPorts, stages: Sequence[Stage] | None = None) -> None:
        """`stages`: default the declaration's `STAGES`, read when the orchestrator is built."""
        self.settings = settings
        self.ports = ports
        self.stages = declaration.STAGES if stages is None else stages

    def run(
        self,
        request: FlowRequest,
        *,
        on_stage: StageCallback | None = None,
        progress: ProgressFn | None = None,
    ) -> FlowResult:
        execution_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
        result = FlowResult(execution_id=execution_id, status="Succeeded")
        context = StageContext(
            settings=self.settings,
            ports=self.ports,
            params=dict(request.pipeline_params),
            progress=progress or (lambda _task, _done, _total: None),
            execution_id=execution_id,
        )
        for stage in self.stages:
            started = time.monotonic()
            try:
                document = stage.run(context)
            except Exception as exc:
                outcome = StageOutcome(
                    name=stage.name,
                    status="Failed",
                    seconds=round(time.monotonic() - started, 2),
                    summary=str(exc),
                )
                result.stages.append(outcome)
                result.status, result.failed_stage = "Failed", stage.name
                result.error = f"stage '{stage.name}' failed: {exc}"
                result.exit_code = int(getattr(exc, "exit_code", 1))
                if on_stage:
                    on_stage(outcome)
                self._notify_failure(result, exc)
                return result
            context.results[stage.name] = document
            if isinstance(document.get("warning"), dict):
                self._notify_warning(stage.name, execution_id, document["warning"])
            outcome = StageOutcome(
                name=stage.name,
                status="Succeeded",
                seconds=round(time.monotonic() - started, 2),
                summary=str(document.get("summary", "done")),
                document=document,
            )
            result.stages.append(outcome)
            if on_stage:
                on_stage(outcome)
        self._notify(
            Notification(
                severity="info",
                subject="daily flow succeeded",
                message="\n".join(f"{s.name}: {s.summary} ({s.seconds:.1f} s)" for s in result.stages),
                source="flow",
                details={"execution_id": execution_id},
            )
        )
        return result

    def _notify_failure(self, result: FlowResult, exc: Exception) -> None:
        self._notify(
            Notification(
                severity="critical",
                subject=f"daily flow failed at stage {result.failed_stage}",
                message=str(exc),
                source=f"flow:{result.failed_stage}",
                details={"execution_id": result.execution_id, "error_type": type(exc).__name__},
            )
        )

    def _notify_warning(self, stage: str, execution_id: str, warning: dict[str, Any]) -> None:
        self._notify(
            Notification(
                severity="warning",
                subject=f"daily flow: {warning.get('subject', stage + ' warning')}",
                message=str(warning.get("message", "")),
                source=f"flow:{stage}",
                details={"execution_id": execution_id},
            )
        )

    def _notify(self, notification: Notification) -> None:
        """A notification that cannot be delivered must not turn a finished flow into a failed one."""
        try:
            self.ports.notifier.notify(notification)
        except (LakemlError, OSError) as exc:
            log.warning("notification %r not delivered: %s", notification.subject, exc)


def describe(result: FlowResult) -> dict[str, Any]:
    """The `lakeml run --json` document."""
    return {
        "execution_id": result.execution_id,
        "status": result.status,
        "stages": {s.name: {**s.document, "summary": s.summary, "seconds": s.seconds} for s in result.stages},
        **({"failed_stage": result.failed_stage, "error": result.error} if result.failed_stage else {}),
    }
