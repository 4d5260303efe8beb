"""What the notify Lambda receives, turned into one `Notification`.

Three shapes reach it:

- a `Notification` as JSON (`severity`, `subject`, `message`, `source`, `details`): anything of lakeml
  that wants to tell people something;
- the Step Functions failure shape `{"stage", "execution_id", "error": {"Error", "Cause"}}` that the
  daily flow's Catch states send (always critical: the flow stopped);
- EventBridge's "SageMaker Model Building Pipeline Execution Status Change" (a pipeline run started
  outside the flow failed, stopped or succeeded).

`failure_notification` is also what a local runner can call, so a failed stage reads the same whether
it failed in Step Functions or in `lakeml run`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from lakeml.core.errors import UsageError
from lakeml.notify.port import Notification, Severity

PIPELINE_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
MAX_CAUSE = 2000

# What to do, by error name (Step Functions' `Error`, which for a Lambda is the exception class).
ACTIONS = {
    "QualityThresholdExceeded": "Read the quality report named in the error (runs/quality/<execution>.json "
    "in the lake), fix the data or the source, or adjust the [quality] thresholds, then run the flow again.",
    "IngestFailed": "Read the ingestion Lambda's log for the failed tables; runs are idempotent, so run the "
    "flow again (or re-drive the event from the DLQ) once the source answers.",
    "States.Timeout": "The stage ran past its timeout: check whether it is stuck (logs), raise the timeout "
    "if the data grew, then run the flow again.",
    "States.TaskFailed": "Open the failed task's log (ECS/Lambda/SageMaker) from the execution's page, fix "
    "the cause, then run the flow again.",
}
STAGE_ACTIONS = {
    "dbt": "Read the dbt run results (runs/dbt/latest.json in the lake) and the task log; fix the failing "
    "model or test, then run the flow again.",
    "transform": "Read the dbt run results (runs/dbt/latest.json in the lake); fix the failing model or "
    "test, then run the flow again.",
    "train": "Open the pipeline execution in SageMaker Studio; a failed gate registers nothing and is not "
    "an error, a failed step is.",
}
DEFAULT_ACTION = (
    "Open the execution, read the failed state's error and log, fix the cause, run the flow again."
)


def parse(event: Any) -> Notification:
    """The notification an event describes; a UsageError naming the accepted shapes otherwise."""
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            raise UsageError("notify event is not JSON") from None
    if not isinstance(event, dict):
        raise UsageError(f"notify event must be a JSON object, got {type(event).__name__}")
    if event.get("detail-type") == PIPELINE_STATUS_CHANGE:
        return pipeline_notification(event)
    if isinstance(event.get("error"), dict) and "severity" not in event:
        error = event["error"]
        return failure_notification(
            stage=str(event.get("stage") or "unknown"),
            execution_id=str(event.get("execution_id") or ""),
            error=str(error.get("Error") or "Error"),
            cause=error.get("Cause"),
        )
    try:
        return Notification.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(
            "notify event is neither a notification ({severity, subject, message, source, details}) nor "
            f'a Step Functions failure ({{"stage", "execution_id", "error": {{"Error", "Cause"}}}}): {problems}'
        ) from None


def failure_notification(stage: str, execution_id: str, error: str, cause: Any) -> Notification:
    """A failed flow stage: critical, with the error, what to do and a link to the execution."""
    message, error_type = explain(cause)
    name = error_type or error
    return Notification(
        severity="critical",
        subject=f"daily flow failed at {stage}: {name}",
        message=message or error,
        source=f"flow:{stage}",
        details={"stage": stage, "execution_id": execution_id, "error": name},
        action=action_for(stage, error, error_type),
        links=execution_links(execution_id),
    )


def action_for(stage: str, error: str, error_type: str | None) -> str:
    """Most specific first: the exception's own advice, a timeout, the stage's, the error's, a default."""
    for text in (
        ACTIONS.get(error_type or ""),
        ACTIONS.get(error) if error == "States.Timeout" else None,
        STAGE_ACTIONS.get(stage),
        ACTIONS.get(error),
    ):
        if text:
            return text
    return DEFAULT_ACTION


def explain(cause: Any) -> tuple[str, str | None]:
    """A readable message (and the exception type) from a Step Functions `Cause`: a Lambda's cause is
    JSON with `errorMessage`/`errorType`; an ECS task's is the task's JSON (its stop reason matters)."""
    if cause is None:
        return "", None
    data = cause
    if isinstance(cause, str):
        try:
            data = json.loads(cause)
        except ValueError:
            return cause[:MAX_CAUSE], None
    if isinstance(data, dict):
        if "errorMessage" in data:
            return str(data["errorMessage"])[:MAX_CAUSE], data.get("errorType")
        containers = data.get("Containers") or []
        reasons = [str(c.get("Reason") or f"exit code {c.get('ExitCode')}") for c in containers]
        if data.get("StoppedReason") or reasons:
            return "; ".join(filter(None, [data.get("StoppedReason"), *reasons]))[:MAX_CAUSE], None
    return json.dumps(data)[:MAX_CAUSE], None


def execution_links(execution_id: str) -> dict[str, str]:
    """The Step Functions console page of an execution ARN (nothing for a local execution id)."""
    parts = execution_id.split(":")
    if len(parts) >= 8 and parts[2] == "states" and parts[5] == "execution":
        region = parts[3]
        return {
            "execution": f"https://{region}.console.aws.amazon.com/states/home?region={region}"
            f"#/v2/executions/details/{execution_id}"
        }
    return {}


def pipeline_notification(event: dict[str, Any]) -> Notification:
    """A SageMaker pipeline execution changed status: Failed is critical, Stopped a warning, else info."""
    detail = event.get("detail") or {}
    status = str(detail.get("currentPipelineExecutionStatus") or "unknown")
    arn = str(detail.get("pipelineExecutionArn") or "")
    pipeline = str(detail.get("pipelineArn") or "").rsplit("/", 1)[-1] or "pipeline"
    severity: Severity = {"Failed": "critical", "Stopped": "warning"}.get(status, "info")  # type: ignore[assignment]
    region = str(event.get("region") or "")
    return Notification(
        severity=severity,
        subject=f"SageMaker pipeline {pipeline} {status.lower()}",
        message=f"pipeline execution {arn.rsplit('/', 1)[-1] or arn} is {status} "
        f"(was {detail.get('previousPipelineExecutionStatus', 'unknown')})",
        source=f"pipeline:{pipeline}",
        details={
            "execution_id": arn,
            "started": detail.get("executionStartTime"),
            "ended": detail.get("executionEndTime"),
        },
        action=(
            "Open the execution in SageMaker Studio (Pipelines), read the failed step's reason and log, "
            "fix it and start the pipeline again."
            if status == "Failed"
            else ""
        ),
        links={
            "console": f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/pipelines"
        }
        if region
        else {},
    )
