"""The applied state machine runs on moto's Step Functions engine end to end, against the estate's own
Lambdas, dbt task, pipelines and model registry — the names Terraform created, not a test's copies.

moto answers what it can (ECS RunTask, SageMaker pipeline executions, the registry's approved versions);
where its backends cannot play a part the flow tests' substitutions stand in, the same ones
(tests/flow/sfn_emulator.py `substitute`): the Lambdas' results, pipeline outcomes, ECS casing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lakeml.flow.port import FlowRequest, FlowResult
from lakeml.flow.stepfunctions import StepFunctionsOrchestrator
from lakeml.notify.events import parse
from tests.flow.sfn_emulator import LambdaError, Services, substitute
from tests.infra.emulator.estate import Estate

pytestmark = pytest.mark.xdist_group("emulator")

TABLES = ["CUSTOMERS", "ORDERS"]
STAGES = ["ingest", "transform", "quality", "train", "score"]


@pytest.fixture
def flow(estate: Estate) -> Iterator[Services]:
    """The substitutions on the estate's moto, and an approved champion in the estate's registry (so
    scoring has a model); the champion is deleted afterwards, as the destroy needs an empty group."""
    services = Services(estate.endpoint_url)
    sagemaker = estate.client("sagemaker")
    group = estate.stack["model_package_group"]
    image = f"{estate.account_id}.dkr.ecr.{estate.region}.amazonaws.com/lakeml-dev-ml:emulator"
    champion = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": image}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    with pytest.MonkeyPatch.context() as patch:
        substitute(patch, services)
        try:
            yield services
        finally:
            sagemaker.delete_model_package(ModelPackageName=champion)


def _name(estate: Estate, function: str) -> str:
    return str(estate.stack["function_arns"][function]).rsplit(":", 1)[-1]


def _run(estate: Estate, **params: str) -> FlowResult:
    sfn = estate.client("stepfunctions")
    follower = StepFunctionsOrchestrator(
        sfn, estate.stack["state_machine_arn"], poll_seconds=0.05, timeout_s=90
    )
    return follower.run(FlowRequest(tables=TABLES, pipeline_params=params))


def _notifications(estate: Estate, services: Services) -> list[dict[str, Any]]:
    events = services.lambdas.events(_name(estate, "notify"))
    for event in events:
        assert parse(event).subject, event  # the real notify handler's parser accepts each one
    return events


def test_the_applied_flow_runs_every_stage_to_success(estate: Estate, flow: Services) -> None:
    training = estate.stack["pipelines"]["names"]["training"]
    flow.lambdas.handlers[_name(estate, "ingestion")] = lambda event: {
        "runs": [{"table": event["tables"][0]}]
    }
    flow.lambdas.handlers[_name(estate, "quality")] = lambda event: {"summary": "quality ok", "passed": True}
    # Done at the first look: the applied flow waits 60 s between looks (tests/flow runs the polling
    # loop itself with a rendering that waits 1 s).
    flow.pipeline_outcomes[training] = [("Succeeded", None)]

    result = _run(estate, MaxTuningJobs="2")

    assert result.status == "Succeeded", result.error
    assert [s.name for s in result.stages] == STAGES
    ingested = sorted(e["tables"][0] for e in flow.lambdas.events(_name(estate, "ingestion")))
    assert ingested == TABLES
    train = result.stage("train")
    assert train is not None and train.document["status"] == "Succeeded"
    execution = train.document["pipeline_execution_arn"]
    assert f":pipeline/{training.lower()}/execution/" in execution.lower()
    (notification,) = _notifications(estate, flow)
    assert (notification["severity"], notification["subject"]) == ("info", "daily flow succeeded")
    # the dbt task ran on the estate's cluster with the estate's task definition
    ecs = estate.client("ecs")
    cluster = estate.stack["dbt_task"]["cluster_arn"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster)["taskArns"])["tasks"]
    assert tasks and {t["taskDefinitionArn"] for t in tasks} == {
        estate.stack["dbt_task"]["task_definition_arn"]
    }


def test_a_failed_table_stops_the_applied_flow_with_a_critical_notification(
    estate: Estate, flow: Services
) -> None:
    def ingest(event: dict[str, Any]) -> dict[str, Any]:
        if event["tables"] == ["ORDERS"]:
            raise LambdaError("IngestFailed", "ORDERS: extraction failed after 3 attempts")
        return {"runs": []}

    flow.lambdas.handlers[_name(estate, "ingestion")] = ingest
    result = _run(estate)

    assert (result.status, result.failed_stage) == ("Failed", "ingest")
    (notification,) = _notifications(estate, flow)
    assert notification["stage"] == "ingest" and notification["error"]["Error"] == "IngestFailed"
    assert not flow.lambdas.events(_name(estate, "quality")), "the flow went on after a failed table"
    failed = estate.client("stepfunctions").list_executions(
        stateMachineArn=estate.stack["state_machine_arn"], statusFilter="FAILED"
    )["executions"]
    assert failed, "the execution is not recorded as FAILED"
