"""The ASL of one SageMaker pipeline stage: start the execution, poll it to its end, judge the outcome.

Step Functions has no `.sync` for `StartPipelineExecution`, so the stage is a loop: describe the
execution, Choice on its status, Wait, count the look, describe again — at most `max_polls` looks, after
which the stage fails (the execution goes on in SageMaker; the notification says so). `Failed`, `Stopped`
and `CompletedWithFailures` fail the stage, except a failure whose FailureReason matches the declared gate
message: the training pipeline's FailStep (the challenger missed a gate), a warning. Scoring first looks
for an Approved champion and, without one, is skipped with a warning.

Every end of the branch outputs the same keys (status, pipeline_execution_arn, failure_reason, summary) so
the stage's document has one shape whatever happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from lakeml.flow.aws_spec import PipelineRun, Placeholder, Retry
from lakeml.flow.stages import NO_CHAMPION_SUBJECT, NO_MODEL_SUBJECT

SAGEMAKER = "arn:aws:states:::aws-sdk:sagemaker:"
FAILED_STATUSES = ("Failed", "Stopped", "CompletedWithFailures")
CALL_TIMEOUT_S = 60


class Parts(Protocol):
    """What the renderer lends this module: resources, retries and notify tasks."""

    def __call__(self, placeholder: Placeholder) -> str: ...

    def retry(self, retry: Retry) -> list[dict[str, Any]]: ...

    def notify(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def message(self, severity: str, subject: str, message: str, source: str) -> dict[str, Any]: ...

    def polling(self, spec: PipelineRun) -> tuple[int, int]: ...


def pipeline_states(parts: Parts, name: str, spec: PipelineRun) -> tuple[dict[str, Any], str]:
    """The branch's states and its first state's name."""
    start, describe, judge = f"{name}: start", f"{name}: describe", f"{name}: finished?"
    wait, count, done = f"{name}: wait", f"{name}: count look", f"{name}: succeeded"
    failed, fail, timed_out = f"{name}: failed", f"{name}: fail", f"{name}: timed out"
    failed_silently = f"{name}: failed (no reason)"
    poll_seconds, max_polls = parts.polling(spec)
    status = "$.pipeline.described.PipelineExecutionStatus"
    reason = "$.pipeline.described.FailureReason"

    def sagemaker(action: str, parameters: dict[str, Any], **rest: Any) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": SAGEMAKER + action,
            "Parameters": parameters,
            "TimeoutSeconds": CALL_TIMEOUT_S,
            "Retry": parts.retry(spec.retry),
            **rest,
        }

    def end(
        status_value: str | None, summary: str, *, arn: bool = True, why: str | None = None
    ) -> dict[str, Any]:
        parameters: dict[str, Any] = {
            ("status.$" if status_value and status_value.startswith("$") else "status"): status_value,
            ("pipeline_execution_arn.$" if arn else "pipeline_execution_arn"): "$.pipeline.arn"
            if arn
            else None,
            ("failure_reason.$" if why else "failure_reason"): why,
            ("summary.$" if summary.startswith("States.") else "summary"): summary,
        }
        return {"Type": "Pass", "Parameters": parameters, "End": True}

    start_parameters: dict[str, Any] = {"PipelineName": parts(spec.pipeline)}
    if spec.parameters_path:
        start_parameters["PipelineParameters.$"] = spec.parameters_path
    choices: list[dict[str, Any]] = [{"Variable": status, "StringEquals": "Succeeded", "Next": done}]
    states: dict[str, Any] = {}
    if spec.gate_message:
        gate, not_registered = f"{name}: gate said no", f"{name}: nothing registered"
        choices.append(
            {
                "And": [
                    {"Variable": status, "StringEquals": "Failed"},
                    {"Variable": reason, "IsPresent": True},
                    {"Variable": reason, "StringMatches": spec.gate_message},
                ],
                "Next": gate,
            }
        )
        states[gate] = {
            **parts.notify(
                parts.message("warning", f"daily flow: {NO_MODEL_SUBJECT}", reason, f"flow:{name}")
            ),
            "Next": not_registered,
        }
        states[not_registered] = end(
            "Failed", f"States.Format('nothing registered: {{}}', {reason})", why=reason
        )
    ended_badly = {"Or": [{"Variable": status, "StringEquals": s} for s in FAILED_STATUSES]}
    choices += [
        {"And": [ended_badly, {"Variable": reason, "IsPresent": True}], "Next": failed},
        {**ended_badly, "Next": failed_silently},
        {"Variable": "$.pipeline.polls", "NumericGreaterThanEquals": max_polls, "Next": timed_out},
    ]
    states |= {
        start: sagemaker(
            "startPipelineExecution",
            start_parameters,
            ResultSelector={"arn.$": "$.PipelineExecutionArn", "polls": 1},
            ResultPath="$.pipeline",
            Next=describe,
        ),
        describe: sagemaker(
            "describePipelineExecution",
            {"PipelineExecutionArn.$": "$.pipeline.arn"},
            ResultPath="$.pipeline.described",
            Next=judge,
        ),
        judge: {"Type": "Choice", "Choices": choices, "Default": wait},
        wait: {"Type": "Wait", "Seconds": poll_seconds, "Next": count},
        count: {
            "Type": "Pass",
            "Parameters": {"arn.$": "$.pipeline.arn", "polls.$": "States.MathAdd($.pipeline.polls, 1)"},
            "ResultPath": "$.pipeline",
            "Next": describe,
        },
        done: end(status, f"States.Format('{spec.label} execution {{}} succeeded', $.pipeline.arn)"),
        failed: {
            "Type": "Pass",
            "Parameters": {
                "Error": "PipelineFailed",
                "Cause.$": f"States.Format('{spec.label} execution {{}} ended {{}}: {{}}', $.pipeline.arn, "
                f"{status}, {reason})",
            },
            "ResultPath": "$.failure",
            "Next": fail,
        },
        failed_silently: {
            "Type": "Pass",
            "Parameters": {
                "Error": "PipelineFailed",
                "Cause.$": f"States.Format('{spec.label} execution {{}} ended {{}}', $.pipeline.arn, {status})",
            },
            "ResultPath": "$.failure",
            "Next": fail,
        },
        fail: {"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.failure.Cause"},
        timed_out: {
            "Type": "Fail",
            "Error": "PipelineTimedOut",
            "Cause": f"{spec.label} still running after {max_polls} looks {poll_seconds} s apart; it goes on "
            "in SageMaker (stop it there or let it finish) and this run of the flow stops here",
        },
    }
    if not spec.champion_group:
        return states, start
    find, has, skipped, notify = (
        f"{name}: find champion",
        f"{name}: champion?",
        f"{name}: skipped",
        f"{name}: no champion",
    )
    message = f"no Approved version in {spec.champion_group}: {spec.label} skipped until one is approved"
    states |= {
        find: sagemaker(
            "listModelPackages",
            {
                "ModelPackageGroupName": spec.champion_group,
                "ModelApprovalStatus": "Approved",
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 1,
            },
            ResultSelector={"packages.$": "$.ModelPackageSummaryList"},
            ResultPath="$.champion",
            Next=has,
        ),
        has: {
            "Type": "Choice",
            "Choices": [{"Variable": "$.champion.packages[0]", "IsPresent": True, "Next": start}],
            "Default": notify,
        },
        notify: {
            **parts.notify(
                parts.message("warning", f"daily flow: {NO_CHAMPION_SUBJECT}", message, f"flow:{name}")
            ),
            "Next": skipped,
        },
        skipped: end("Skipped", message, arn=False),
    }
    return states, find
