"""How each stage of the daily flow runs on AWS: the Step Functions side of the one declaration.

`lakeml.flow.stages.STAGES` pairs every stage's local function with one of these specs (or None: the stage
is local-only). `lakeml.flow.asl` renders them to Amazon States Language. They are data, not ASL, so the
declaration reads as a list of decisions — which service, which retries, how long — and the renderer owns
the JSON details in one place.

Resources are named by placeholder (`Placeholder`): Terraform's `templatefile()` fills them in the committed
`infra/modules/flow/daily_flow.asl.json`; tests fill them with moto's ARNs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Placeholder(StrEnum):
    """The `${...}` names of the rendered file (ISSUE12 contract; Terraform passes exactly these)."""

    INGEST_FUNCTION = "ingest_function_arn"
    QUALITY_FUNCTION = "quality_function_arn"
    NOTIFY_FUNCTION = "notify_function_arn"
    DBT_CLUSTER = "dbt_cluster_arn"
    DBT_TASK_DEFINITION = "dbt_task_definition_arn"
    DBT_CONTAINER = "dbt_container_name"
    DBT_SUBNETS = "dbt_subnets_csv"
    DBT_SECURITY_GROUPS = "dbt_security_groups_csv"
    TRAINING_PIPELINE = "training_pipeline_name"
    SCORING_PIPELINE = "scoring_pipeline_name"


@dataclass(frozen=True)
class Retry:
    """Retry of transient service errors, with exponential backoff (a persistent error is not retried)."""

    errors: tuple[str, ...]
    interval_s: int
    max_attempts: int
    backoff: float = 2.0


# Errors the services document as transient; anything else (a raised exception of our code, a missing
# resource, bad parameters) fails the stage at once so the notification says why without a delay.
LAMBDA_TRANSIENT = Retry(
    (
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ),
    interval_s=5,
    max_attempts=3,
)
ECS_TRANSIENT = Retry(("ECS.AmazonECSException", "AmazonECS.Unknown"), interval_s=30, max_attempts=3)
SAGEMAKER_TRANSIENT = Retry(
    (
        "SageMaker.SageMakerException",
        "SageMaker.ThrottlingException",
        "SageMaker.ResourceLimitExceededException",
    ),
    interval_s=20,
    max_attempts=4,
)


@dataclass(frozen=True)
class LambdaMap:
    """Invoke a Lambda once per item of an input array (ingestion: one table per invocation)."""

    function: Placeholder
    items_path: str
    item_key: str  # the event's key; each item is sent as a one-element list, e.g. {"tables": ["X"]}
    static_payload: dict[str, object] = field(default_factory=dict)
    max_concurrency: int = 4
    timeout_s: int = 900
    retry: Retry = LAMBDA_TRANSIENT


@dataclass(frozen=True)
class LambdaTask:
    """Invoke a Lambda with the execution's name (its result is the stage's document)."""

    function: Placeholder
    timeout_s: int = 300
    retry: Retry = LAMBDA_TRANSIENT


@dataclass(frozen=True)
class EcsTask:
    """Run a Fargate task to its end (`ecs:runTask.sync`); a non-zero exit code of the container fails it."""

    command: tuple[str, ...]
    environment: dict[str, str]
    failure_error: str  # the error name a non-zero exit code raises, e.g. DbtBuildFailed
    timeout_s: int = 3600
    retry: Retry = ECS_TRANSIENT


@dataclass(frozen=True)
class PipelineRun:
    """Start a SageMaker pipeline and poll it to its end: there is no `.sync` for pipelines.

    `gate_message` is a `StringMatches` pattern of the FailureReason of an execution that ended in the
    pipeline's FailStep (a gate said no): that is an outcome, notified as a warning, not a failure.
    `champion_group`: scoring needs an Approved model; without one the stage is skipped with a warning."""

    pipeline: Placeholder
    label: str  # "training pipeline"
    parameters_path: str | None = None  # a list of {"Name", "Value"} in the execution input
    gate_message: str | None = None
    champion_group: str | None = None
    poll_seconds: int = 60
    max_polls: int = 360  # 6 h at one look a minute: a run past this fails the stage (and is left running)
    retry: Retry = SAGEMAKER_TRANSIENT


AwsTask = LambdaMap | LambdaTask | EcsTask | PipelineRun
