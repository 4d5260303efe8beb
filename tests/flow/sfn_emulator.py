"""The rendered daily flow on moto's Step Functions engine, with the services it calls made scriptable.

moto executes the ASL (Map, Parallel, Choice, Wait, Retry, Catch, intrinsic functions) and the service
integrations against its own backends. Where those backends cannot play a part, the test substitutes
the smallest thing, in this process (moto's server runs in it), and says so here:

- Lambda: moto's docker-less Lambda (`{"lambda": {"use_docker": False}}`) answers every invocation with
  a queued or echoed payload and never reports an error. `FakeLambdas` replaces its `invoke` with Python
  functions per function name that return the handler's result or raise `LambdaError`, answered the way
  Lambda answers an unhandled exception (`X-Amz-Function-Error: Unhandled`, body `{"errorType",
  "errorMessage"}`), so Step Functions sees the handler's exception name as the error (e.g.
  `QualityThresholdExceeded`). Every invocation's event is recorded: the notify Lambda's input is asserted.
- ECS: moto's engine leaves out the casing Step Functions applies to service integrations: it hands the
  PascalCase parameters (`LaunchType`, `Overrides`...) to boto3, which refuses them, and keeps the API's
  camelCase in the result. `_ecs_api_casing` camelCases the request and `_sfn_casing` PascalCases the
  response (`Tasks[0].Containers[0].ExitCode`), as Step Functions does. moto's tasks stop at once with exit code 0; `dbt_exit_code` sets the container's exit code.
- JSONPath: moto returns a one-element list for a definite path through an array index
  (`$.Containers[0].ExitCode`, `$[0].summary`) where Step Functions returns the value;
  `_definite_paths_are_values` makes moto unpack it.
- SageMaker pipelines: moto's executions are `Succeeded` at once with no FailureReason; `pipeline_outcomes`
  gives the statuses successive DescribePipelineExecution calls return (e.g. Executing, then Failed with
  the FailStep's message).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.ecs import models as ecs_models
from moto.sagemaker.models import SageMakerModelBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (
    StateTaskServiceEcs,
)
from moto.stepfunctions.parser.asl.utils import json_path

from tests.contract.aws_emulator import REGION, client, moto_server

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lakeml-flow"
CLUSTER = "lakeml-dbt"
CONTAINER = "dbt"
TRAINING, SCORING = "lakeml-churn-training", "lakeml-churn-batch-scoring"
FUNCTIONS = {"ingest": "lakeml-ingest", "quality": "lakeml-quality", "notify": "lakeml-notify"}


class LambdaError(Exception):
    """Raised by a fake handler: the function's unhandled exception, as Lambda reports it."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


Handler = Callable[[dict[str, Any]], Any]


@dataclass
class FakeLambdas:
    handlers: dict[str, Handler] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def invoke(self, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        name = function_name.split(":function:")[-1].split(":")[0]
        event = json.loads(body or "{}")
        self.calls.append((name, event))
        try:
            result = self.handlers.get(name, lambda e: {"summary": f"{name} done"})(event)
        except LambdaError as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": exc.error_type, "errorMessage": str(exc)}).encode()
        return json.dumps(result).encode()

    def events(self, function: str) -> list[dict[str, Any]]:
        return [event for name, event in self.calls if name == function]


@dataclass
class Services:
    endpoint: str
    lambdas: FakeLambdas = field(default_factory=FakeLambdas)
    pipeline_outcomes: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    dbt_exit_code: int = 0
    resources: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        self.lambdas = FakeLambdas()
        self.pipeline_outcomes = {}
        self.dbt_exit_code = 0


def _describe_with_outcomes(
    services: Services, original: Callable[..., dict[str, Any]]
) -> Callable[..., Any]:
    def describe(backend: Any, pipeline_execution_arn: str) -> dict[str, Any]:
        document = original(backend, pipeline_execution_arn)
        pipeline = pipeline_execution_arn.split(":pipeline/", 1)[-1].split("/", 1)[0]
        outcomes = services.pipeline_outcomes.get(pipeline)
        if outcomes:
            status, reason = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
            document["PipelineExecutionStatus"] = status
            document.pop("FailureReason", None)
            if reason is not None:
                document["FailureReason"] = reason
        elif not document.get("FailureReason"):
            document.pop("FailureReason", None)  # as SageMaker: absent unless the execution failed
        return document

    return describe


def _container_with_exit_code(services: Services, original: Callable[..., None]) -> Callable[..., None]:
    def init(container: Any, task_def: Any) -> None:
        original(container, task_def)
        container.exitCode = services.dbt_exit_code

    return init


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _ecs_api_casing(original: Callable[..., None]) -> Callable[..., None]:
    def evaluate(task: Any, **kwargs: Any) -> None:
        kwargs["normalised_parameters"] = _camel(kwargs["normalised_parameters"])
        original(task, **kwargs)

    return evaluate


def _definite_paths_are_values(path: str) -> bool:
    """moto unpacks a one-element result only for paths ending in `[n]`; Step Functions for every path
    without a wildcard, slice or filter."""
    return not any(token in path for token in ("[*]", ":", "?(", ".."))


def _sfn_casing(_task: Any, response: Any, *_args: Any, **_kwargs: Any) -> None:
    """In place, as moto's engine expects: every key's first letter upper-cased, recursively."""

    def pascal(value: Any) -> Any:
        if isinstance(value, dict):
            return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [pascal(v) for v in value]
        return value

    if isinstance(response, dict):
        converted = pascal(response)
        response.clear()
        response.update(converted)


def emulated_services() -> Iterator[Services]:
    """A moto server with the substitutions above, for the time of a test module (tests/flow/conftest.py)."""
    with moto_server() as endpoint, pytest.MonkeyPatch.context() as patch:
        # moto's engine calls services at localhost:$MOTO_PORT: this server's port
        patch.setenv("MOTO_PORT", endpoint.rsplit(":", 1)[-1])
        requests.post(
            f"{endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}},
            timeout=10,
        ).raise_for_status()
        state = Services(endpoint)
        substitute(patch, state)
        state.resources = _create_resources(endpoint)
        yield state


def substitute(patch: pytest.MonkeyPatch, state: Services) -> None:
    """Install the substitutions above on this process's moto (its server must run in this process):
    Lambda invocations answered by `state.lambdas`, pipeline outcomes, the dbt exit code, the ECS and
    JSONPath fixes. Also used on the applied estate (tests/infra/emulator/test_flow_on_estate.py)."""
    patch.setattr(
        LambdaSimpleBackend,
        "invoke",
        lambda _self, name, _qualifier, body, _headers, response_headers: state.lambdas.invoke(
            name, body, response_headers
        ),
    )
    patch.setattr(
        SageMakerModelBackend,
        "describe_pipeline_execution",
        _describe_with_outcomes(state, SageMakerModelBackend.describe_pipeline_execution),
    )
    patch.setattr(
        ecs_models.Container, "__init__", _container_with_exit_code(state, ecs_models.Container.__init__)
    )
    patch.setattr(
        StateTaskServiceEcs, "_eval_service_task", _ecs_api_casing(StateTaskServiceEcs._eval_service_task)
    )
    patch.setattr(StateTaskServiceEcs, "_normalise_response", _sfn_casing)
    patch.setattr(json_path, "_is_singleton_array_access", _definite_paths_are_values)


def _create_resources(endpoint: str) -> dict[str, str]:
    ecs = client("ecs", endpoint)
    cluster = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family="lakeml-dbt",
        containerDefinitions=[{"name": CONTAINER, "image": "lakeml:ml", "memory": 2048, "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    sagemaker = client("sagemaker", endpoint)
    for name in (TRAINING, SCORING):
        sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
            RoleArn=ROLE,
        )
    functions = {k: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{v}" for k, v in FUNCTIONS.items()}
    return {
        "ingest_function_arn": functions["ingest"],
        "quality_function_arn": functions["quality"],
        "notify_function_arn": functions["notify"],
        "dbt_cluster_arn": cluster,
        "dbt_task_definition_arn": task_definition,
        "dbt_container_name": CONTAINER,
        "dbt_subnets_csv": "subnet-0a,subnet-0b",
        "dbt_security_groups_csv": "sg-0a",
        "training_pipeline_name": TRAINING,
        "scoring_pipeline_name": SCORING,
    }


def approve_a_champion(endpoint: str, group: str) -> None:
    """An Approved version in the registry, so scoring has a model (idempotent per module)."""
    sagemaker = client("sagemaker", endpoint)
    try:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    except sagemaker.exceptions.ClientError:
        return
    sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/lakeml:ml"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
