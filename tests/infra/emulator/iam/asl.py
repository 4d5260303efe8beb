"""The calls Step Functions makes as the state machine's role, read from the applied ASL definition.

Every Task state of every branch (Map item processors, Parallel branches), so the check covers paths one
execution does not take. Service integrations as Step Functions documents them:
- `lambda:invoke` -> lambda:InvokeFunction on the FunctionName;
- `ecs:runTask.sync` -> ecs:RunTask on the task definition in the cluster, ecs:DescribeTasks/StopTask on
  the cluster's tasks, events:PutTargets/PutRule/DescribeRule on the managed rule
  `StepFunctionsGetEventsForECSTaskRule`, and iam:PassRole of the task's roles to ecs-tasks;
- `aws-sdk:<service>:<action>` -> <service>:<Action> with the state's literal parameters; a path
  parameter (`X.$`) of an ARN is given its shape (a pipeline execution of the pipeline the same branch
  started).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.infra.emulator.iam.recorder import Call

SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"


def _states(states: dict[str, Any]) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Each state list (the top level, every branch and item processor), in definition order."""
    yield list(states.items())
    for state in states.values():
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _states(state[key]["States"])
        for branch in state.get("Branches", []):
            yield from _states(branch["States"])


def task_calls(definition: dict[str, Any], region: str, account: str, passed_roles: list[str]) -> list[Call]:
    calls: list[Call] = []
    for states in _states(definition["States"]):
        pipeline = ""
        for _, state in states:
            if state.get("Type") != "Task":
                continue
            resource: str = state["Resource"]
            params = {
                k: v
                for k, v in (state.get("Parameters") or state.get("Arguments") or {}).items()
                if not k.endswith(".$")
            }
            integration = resource.removeprefix("arn:aws:states:::")
            if integration.startswith("lambda:invoke"):
                calls.append(
                    Call("lambda", "InvokeFunction", {"FunctionName": params["FunctionName"]}, region, "asl")
                )
            elif integration.startswith("ecs:runTask"):
                cluster = params["Cluster"]
                calls.append(
                    Call(
                        "ecs",
                        "RunTask",
                        {"taskDefinition": params["TaskDefinition"], "cluster": cluster},
                        region,
                        "asl",
                    )
                )
                if integration.endswith(".sync"):
                    task = f"arn:aws:ecs:{region}:{account}:task/{cluster.rsplit('/', 1)[-1]}/sync"
                    for op in ("DescribeTasks", "StopTask"):
                        calls.append(Call("ecs", op, {"task": task, "cluster": cluster}, region, "asl"))
                    for op in ("PutTargets", "PutRule", "DescribeRule"):
                        calls.append(Call("events", op, {"Name": SYNC_RULE}, region, "asl"))
                    for role in passed_roles:
                        passing = {"RoleArn": role, "PassedToService": "ecs-tasks.amazonaws.com"}
                        calls.append(Call("iam", "PassRole", passing, region, "asl"))
            elif integration.startswith("aws-sdk:"):
                _, service, action = integration.split(":", 2)
                operation = action[0].upper() + action[1:]
                if operation == "StartPipelineExecution":
                    pipeline = params["PipelineName"]
                if "PipelineExecutionArn" not in params and any(
                    k.startswith("PipelineExecutionArn") for k in state.get("Parameters", {})
                ):
                    params["PipelineExecutionArn"] = (
                        f"arn:aws:sagemaker:{region}:{account}:pipeline/{pipeline.lower()}/execution/sync"
                    )
                calls.append(Call(service, operation, params, region, "asl"))
            else:
                raise ValueError(f"task resource {resource}: no mapping to the calls Step Functions makes")
    return calls
