"""Render the flow declaration (`lakeml.flow.stages.STAGES`) to Amazon States Language.

One top-level state per stage that runs on AWS, named as the stage (so `lakeml run` on AWS reports the
same stage names as the local flow), each writing its document to `$.results.<stage>` with a `summary`.
A stage that fails is caught (`States.ALL`), the notify Lambda gets the Step Functions failure shape
`{"stage", "execution_id", "error": {"Error", "Cause"}}` (critical), and a Fail state ends the execution
with the stage's error. A SageMaker pipeline is started and polled (Wait / describe / Choice, a bounded
number of looks: there is no `.sync` for pipelines); an execution that ended in the training pipeline's
FailStep is a warning and the flow goes on to scoring. A finished flow sends an info notification.

State machine input: `{"tables": ["CUSTOMERS", ...], "pipeline_params": [{"Name": ..., "Value": ...}]}` —
the parameters in SageMaker's own shape because JSONPath cannot turn an object into that list.
Resources are `${placeholder}` strings for Terraform's `templatefile()`, or concrete values for tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lakeml.flow.asl_pipeline import pipeline_states
from lakeml.flow.aws_spec import (
    LAMBDA_TRANSIENT,
    EcsTask,
    LambdaMap,
    LambdaTask,
    PipelineRun,
    Placeholder,
    Retry,
)
from lakeml.flow.stages import STAGES, Stage

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
ECS_RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync"
FLOW_TIMEOUT_S = 12 * 3600  # the whole execution; each pipeline is bounded by its polls well before
NOTIFY_TIMEOUT_S = 60
SUCCESS_SUBJECT = "daily flow succeeded"
SUCCEEDED = "flow succeeded"
NOTIFY_SUCCESS = "notify success"
PIPELINE_FAILED = ("Failed", "Stopped", "CompletedWithFailures")  # terminal and not a success


def placeholders() -> dict[str, str]:
    """Every resource as its Terraform `templatefile()` placeholder."""
    return {p.value: "${" + p.value + "}" for p in Placeholder}


def definition(
    resources: Mapping[str, str] | None = None,
    *,
    stages: Sequence[Stage] = STAGES,
    poll_seconds: int | None = None,
    max_polls: int | None = None,
) -> dict[str, Any]:
    """The state machine of the stages that run on AWS. `resources` maps each `Placeholder` value to an
    ARN/name (default: the placeholders); `poll_seconds`/`max_polls` override the declared polling (tests
    on an emulator that would otherwise wait a minute between looks)."""
    values = {**placeholders(), **dict(resources or {})}
    missing = sorted(p.value for p in Placeholder if not values.get(p.value))
    if missing:
        raise ValueError(f"no value for resource(s) {', '.join(missing)}")
    r = Renderer(values, poll_seconds, max_polls)
    remote = [s for s in stages if s.aws is not None]
    states: dict[str, Any] = {}
    for i, stage in enumerate(remote):
        nxt = remote[i + 1].name if i + 1 < len(remote) else NOTIFY_SUCCESS
        states[stage.name] = {
            **r.stage(stage),
            "ResultPath": f"$.results.{stage.name}",
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.error",
                    "Next": f"notify {stage.name} failed",
                }
            ],
            "Next": nxt,
        }
        states[f"notify {stage.name} failed"] = {
            **r.notify({"stage": stage.name, "execution_id.$": "$$.Execution.Id", "error.$": "$.error"}),
            # a notification that cannot be delivered must not hide the stage's own error
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.notify_error",
                    "Next": f"{stage.name} failed",
                }
            ],
            "Next": f"{stage.name} failed",
        }
        states[f"{stage.name} failed"] = {
            "Type": "Fail",
            "Comment": f"the {stage.name} stage failed; its error and cause are the execution's",
            "ErrorPath": "$.error.Error",
            "CausePath": "$.error.Cause",
        }
    summary = "; ".join(f"{s.name}: {{}}" for s in remote)
    states[NOTIFY_SUCCESS] = {
        **r.notify(
            r.message(
                "info",
                SUCCESS_SUBJECT,
                f"States.Format('{summary}', {', '.join(f'$.results.{s.name}.summary' for s in remote)})",
                "flow",
            )
        ),
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notify_error", "Next": SUCCEEDED}],
        "Next": SUCCEEDED,
    }
    states[SUCCEEDED] = {"Type": "Succeed", "OutputPath": "$.results"}
    return {
        "Comment": "lakeml daily flow, rendered from lakeml/flow/stages.py by `lakeml flow definition`; "
        "do not edit (tests/flow/test_definition.py fails when this file is stale)",
        "StartAt": remote[0].name,
        "TimeoutSeconds": FLOW_TIMEOUT_S,
        "States": states,
    }


def to_json(document: Mapping[str, Any]) -> str:
    """The committed file's text: stable key order, two-space indent, newline at the end."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stage_states(document: Mapping[str, Any]) -> list[str]:
    """The stage names of a rendered definition, in execution order (the top-level states that
    `notify <stage> failed` protects), for comparing with the local flow's stages."""
    order, name = [], document["StartAt"]
    states = document["States"]
    while name in states and f"notify {name} failed" in states:
        order.append(name)
        name = states[name]["Next"]
    return order


class Renderer:
    def __init__(self, values: Mapping[str, str], poll_seconds: int | None, max_polls: int | None) -> None:
        self.values = values
        self.poll_seconds = poll_seconds
        self.max_polls = max_polls

    def __call__(self, placeholder: Placeholder) -> str:
        return self.values[placeholder.value]

    # ---- shared pieces
    @staticmethod
    def retry(retry: Retry) -> list[dict[str, Any]]:
        return [
            {
                "ErrorEquals": list(retry.errors),
                "IntervalSeconds": retry.interval_s,
                "MaxAttempts": retry.max_attempts,
                "BackoffRate": retry.backoff,
            }
        ]

    def notify(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE,
            "Parameters": {"FunctionName": self(Placeholder.NOTIFY_FUNCTION), "Payload": dict(payload)},
            "ResultPath": None,  # keep the state's input: the flow's documents go on
            "TimeoutSeconds": NOTIFY_TIMEOUT_S,
            "Retry": self.retry(LAMBDA_TRANSIENT),
        }

    @staticmethod
    def message(severity: str, subject: str, message: str, source: str) -> dict[str, Any]:
        """A `Notification` document; `message` is a JSONPath/intrinsic when it starts with `$`/`States.`."""
        dynamic = message.startswith(("$", "States."))
        return {
            "severity": severity,
            "subject": subject,
            ("message.$" if dynamic else "message"): message,
            "source": source,
            "details": {"execution_id.$": "$$.Execution.Id"},
        }

    def stage(self, stage: Stage) -> dict[str, Any]:
        spec = stage.aws
        if isinstance(spec, LambdaMap):
            return self.lambda_map(stage.name, spec)
        if isinstance(spec, LambdaTask):
            return self.lambda_task(spec)
        if isinstance(spec, EcsTask):
            return self.ecs_task(stage.name, spec)
        if isinstance(spec, PipelineRun):
            return self.pipeline(stage.name, spec)
        raise TypeError(f"stage {stage.name}: no AWS rendering for {type(spec).__name__}")

    # ---- stage kinds
    def lambda_map(self, name: str, spec: LambdaMap) -> dict[str, Any]:
        item = f"{name} item"
        return {
            "Type": "Map",
            "Comment": f"one {spec.function.value} invocation per item of {spec.items_path}",
            "ItemsPath": spec.items_path,
            "ItemSelector": {f"{spec.item_key}.$": "States.Array($$.Map.Item.Value)", **spec.static_payload},
            "MaxConcurrency": spec.max_concurrency,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": item,
                "States": {
                    item: {
                        "Type": "Task",
                        "Resource": LAMBDA_INVOKE,
                        "Parameters": {"FunctionName": self(spec.function), "Payload.$": "$"},
                        "OutputPath": "$.Payload",
                        "TimeoutSeconds": spec.timeout_s,
                        "Retry": self.retry(spec.retry),
                        "End": True,
                    }
                },
            },
            "ResultSelector": {
                "reports.$": "$",
                "summary.$": f"States.Format('{{}} {spec.item_key} done', States.ArrayLength($))",
            },
        }

    def lambda_task(self, spec: LambdaTask) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE,
            "Parameters": {
                "FunctionName": self(spec.function),
                "Payload": {"execution_id.$": "$$.Execution.Name"},
            },
            "ResultSelector": {"report.$": "$.Payload", "summary.$": "$.Payload.summary"},
            "TimeoutSeconds": spec.timeout_s,
            "Retry": self.retry(spec.retry),
        }

    def ecs_task(self, name: str, spec: EcsTask) -> dict[str, Any]:
        run, check, done, failed = (
            f"{name}: run task",
            f"{name}: exit code",
            f"{name}: done",
            f"{name}: exit",
        )
        subnets, groups = self(Placeholder.DBT_SUBNETS), self(Placeholder.DBT_SECURITY_GROUPS)
        states = {
            run: {
                "Type": "Task",
                "Resource": ECS_RUN_TASK_SYNC,
                "Parameters": {
                    "LaunchType": "FARGATE",
                    "Cluster": self(Placeholder.DBT_CLUSTER),
                    "TaskDefinition": self(Placeholder.DBT_TASK_DEFINITION),
                    "NetworkConfiguration": {
                        "AwsvpcConfiguration": {
                            "Subnets.$": f"States.StringSplit('{subnets}', ',')",
                            "SecurityGroups.$": f"States.StringSplit('{groups}', ',')",
                            "AssignPublicIp": "DISABLED",
                        }
                    },
                    "Overrides": {
                        "ContainerOverrides": [
                            {
                                "Name": self(Placeholder.DBT_CONTAINER),
                                "Command": list(spec.command),
                                "Environment": [{"Name": k, "Value": v} for k, v in spec.environment.items()],
                            }
                        ]
                    },
                },
                "ResultSelector": {"task_arn.$": "$.TaskArn", "exit_code.$": "$.Containers[0].ExitCode"},
                "ResultPath": "$.task",
                "TimeoutSeconds": spec.timeout_s,
                "Retry": self.retry(spec.retry),
                "Next": check,
            },
            check: {
                "Type": "Choice",
                "Comment": "a failed dbt model or test exits non-zero: gold was not rebuilt",
                "Choices": [{"Variable": "$.task.exit_code", "NumericEquals": 0, "Next": done}],
                "Default": failed,
            },
            done: {
                "Type": "Pass",
                "Parameters": {
                    "task_arn.$": "$.task.task_arn",
                    "exit_code.$": "$.task.exit_code",
                    "summary.$": f"States.Format('{' '.join(spec.command)} exited 0 (task {{}})', $.task.task_arn)",
                },
                "End": True,
            },
            failed: {
                "Type": "Fail",
                "Error": spec.failure_error,
                "Cause": f"`{' '.join(spec.command)}` exited non-zero: a model or test failed, gold was not "
                "rebuilt; the failing nodes are in runs/dbt/latest.json of the lake and in the task's log",
            },
        }
        return self.parallel(states, run)

    def parallel(self, states: dict[str, Any], start: str, keys: Sequence[str] = ()) -> dict[str, Any]:
        """One top-level state for a stage made of several: its document is the branch's last output."""
        keys = keys or [k.removesuffix(".$") for k in _end_parameters(states)]
        return {
            "Type": "Parallel",
            "Branches": [{"StartAt": start, "States": states}],
            "ResultSelector": {f"{k}.$": f"$[0].{k}" for k in keys},
        }

    def pipeline(self, name: str, spec: PipelineRun) -> dict[str, Any]:
        states, start = pipeline_states(self, name, spec)
        return self.parallel(states, start, ("status", "pipeline_execution_arn", "failure_reason", "summary"))

    def polling(self, spec: PipelineRun) -> tuple[int, int]:
        return (self.poll_seconds or spec.poll_seconds, self.max_polls or spec.max_polls)


def _end_parameters(states: Mapping[str, Any]) -> list[str]:
    ends = [s for s in states.values() if s.get("End") and s["Type"] == "Pass"]
    return list(ends[0]["Parameters"]) if ends else []
