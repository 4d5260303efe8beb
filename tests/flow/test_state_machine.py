"""The rendered daily flow EXECUTES on moto's Step Functions engine: success and every failure path ends
with the right notification (the notify Lambda's input is asserted), followed the way `lakeml run` on AWS
follows it (`StepFunctionsOrchestrator`). What moto cannot do and the test substitutes: tests/flow/sfn_emulator.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lakeml.core import aws
from lakeml.flow import asl
from lakeml.flow.port import FlowRequest, FlowResult
from lakeml.flow.stepfunctions import StepFunctionsOrchestrator
from lakeml.notify.events import parse
from ml_pipelines.pipeline.target import DEFAULT_MODEL_PACKAGE_GROUP
from tests.contract.aws_emulator import REGION, client
from tests.flow.sfn_emulator import (
    ROLE,
    SCORING,
    TRAINING,
    LambdaError,
    Services,
    approve_a_champion,
)

TABLES = ["CUSTOMERS", "ORDERS"]
GATE_MESSAGE = (
    "Model not registered: below the champion. Numbers: test AUC=0.81, floor=0.7, required vs champion=0.83 "
    "(champion AUC + 0.01)."
)
STAGES = ["ingest", "transform", "quality", "train", "score"]


@pytest.fixture(scope="module")
def state_machine(services: Services) -> str:
    document = asl.definition(services.resources, poll_seconds=1, max_polls=3)
    created = client("stepfunctions", services.endpoint).create_state_machine(
        name=f"lakeml-daily-{uuid.uuid4().hex[:8]}", definition=json.dumps(document), roleArn=ROLE
    )
    return str(created["stateMachineArn"])


@pytest.fixture
def flow(services: Services, state_machine: str) -> Iterator[Services]:
    services.reset()
    services.lambdas.handlers["lakeml-ingest"] = lambda event: {"runs": [{"table": event["tables"][0]}]}
    services.lambdas.handlers["lakeml-quality"] = lambda event: {"summary": "quality ok", "passed": True}
    approve_a_champion(services.endpoint, DEFAULT_MODEL_PACKAGE_GROUP)
    _champion_status(services.endpoint, "Approved")
    yield services


def _run(services: Services, state_machine: str, **params: str) -> FlowResult:
    sfn = aws.client("stepfunctions", REGION, services.endpoint)
    follower = StepFunctionsOrchestrator(sfn, state_machine, poll_seconds=0.05, timeout_s=60)
    return follower.run(FlowRequest(tables=TABLES, pipeline_params=params))


def _champion_status(endpoint: str, status: str) -> None:
    sagemaker = client("sagemaker", endpoint)
    for package in sagemaker.list_model_packages(ModelPackageGroupName=DEFAULT_MODEL_PACKAGE_GROUP)[
        "ModelPackageSummaryList"
    ]:
        sagemaker.update_model_package(ModelPackageArn=package["ModelPackageArn"], ModelApprovalStatus=status)


def _executions(services: Services, pipeline: str) -> int:
    sagemaker = client("sagemaker", services.endpoint)
    return len(sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"])


def _notifications(services: Services) -> list[dict[str, Any]]:
    """What the flow sent the notify Lambda — each one also read by the real Lambda's parser, so the
    shapes the state machine sends and the shapes `lakeml.handlers.notify` accepts cannot drift apart."""
    events = services.lambdas.events("lakeml-notify")
    for event in events:
        notification = parse(event)
        expected = event.get("severity", "critical")
        assert notification.severity == expected, (event, notification)
        assert notification.subject and notification.message
    return events


def _failure(services: Services, stage: str) -> dict[str, Any]:
    """The one notification of a failed run: the Step Functions failure shape (critical)."""
    (notification,) = _notifications(services)
    assert notification["stage"] == stage
    assert notification["execution_id"].startswith("arn:aws:states:")
    return dict(notification["error"])


def test_a_good_day_runs_every_stage_and_ends_with_an_info_notification(
    flow: Services, state_machine: str
) -> None:
    flow.pipeline_outcomes[TRAINING] = [("Executing", None), ("Succeeded", None)]
    result = _run(flow, state_machine, MaxTuningJobs="2")

    assert result.status == "Succeeded", result.error
    assert [s.name for s in result.stages] == STAGES
    assert flow.lambdas.events("lakeml-ingest") in (
        [{"tables": ["CUSTOMERS"], "full_refresh": False}, {"tables": ["ORDERS"], "full_refresh": False}],
        [{"tables": ["ORDERS"], "full_refresh": False}, {"tables": ["CUSTOMERS"], "full_refresh": False}],
    )
    assert flow.lambdas.events("lakeml-quality")[0]["execution_id"]
    train = result.stage("train")
    assert train is not None and train.document["status"] == "Succeeded"
    parameters = client("sagemaker", flow.endpoint).list_pipeline_parameters_for_execution(
        PipelineExecutionArn=train.document["pipeline_execution_arn"]
    )["PipelineParameters"]
    assert parameters == [{"Name": "MaxTuningJobs", "Value": "2"}]
    (notification,) = _notifications(flow)
    assert (notification["severity"], notification["subject"]) == ("info", "daily flow succeeded")
    assert (
        "ingest: 2 tables done" in notification["message"]
        and "quality: quality ok" in notification["message"]
    )


def test_an_ingest_table_that_fails_stops_the_flow_with_a_critical_notification(
    flow: Services, state_machine: str
) -> None:
    def ingest(event: dict[str, Any]) -> dict[str, Any]:
        if event["tables"] == ["ORDERS"]:
            raise LambdaError("IngestFailed", "ORDERS: extraction failed after 3 attempts")
        return {"runs": []}

    flow.lambdas.handlers["lakeml-ingest"] = ingest
    result = _run(flow, state_machine)

    assert (result.status, result.failed_stage) == ("Failed", "ingest")
    assert "IngestFailed" in (result.error or "")
    error = _failure(flow, "ingest")
    assert error["Error"] == "IngestFailed" and "ORDERS" in error["Cause"]
    assert not flow.lambdas.events("lakeml-quality"), "the flow went on after a failed table"


def test_a_failed_dbt_gate_stops_the_flow_before_quality(flow: Services, state_machine: str) -> None:
    flow.dbt_exit_code = 1
    result = _run(flow, state_machine)

    assert (result.status, result.failed_stage) == ("Failed", "transform")
    assert _failure(flow, "transform")["Error"] == "DbtBuildFailed"
    assert not flow.lambdas.events("lakeml-quality")


def test_a_tripped_quality_threshold_stops_the_flow_before_training(
    flow: Services, state_machine: str
) -> None:
    def quality(event: dict[str, Any]) -> dict[str, Any]:
        raise LambdaError("QualityThresholdExceeded", "quarantine rate 7.0% > 5.0%")

    flow.lambdas.handlers["lakeml-quality"] = quality
    trainings = _executions(flow, TRAINING)
    result = _run(flow, state_machine)

    assert (result.status, result.failed_stage) == ("Failed", "quality")
    error = _failure(flow, "quality")
    assert error["Error"] == "QualityThresholdExceeded" and "quarantine rate" in error["Cause"]
    assert _executions(flow, TRAINING) == trainings, "training started after a tripped threshold"


@pytest.mark.parametrize("status", ["Failed", "Stopped", "CompletedWithFailures"])
def test_a_failed_training_pipeline_is_critical(flow: Services, state_machine: str, status: str) -> None:
    flow.pipeline_outcomes[TRAINING] = [
        ("Executing", None),
        (status, "Step failure: One or multiple steps failed."),
    ]
    result = _run(flow, state_machine)

    assert (result.status, result.failed_stage) == ("Failed", "train")
    error = _failure(flow, "train")
    assert error["Error"] == "PipelineFailed" and status in error["Cause"]


def test_a_pipeline_that_never_ends_fails_after_the_bounded_looks(flow: Services, state_machine: str) -> None:
    flow.pipeline_outcomes[TRAINING] = [("Executing", None)]
    result = _run(flow, state_machine)

    assert (result.status, result.failed_stage) == ("Failed", "train")
    assert _failure(flow, "train")["Error"] == "PipelineTimedOut"


def test_no_model_registered_is_a_warning_and_the_champion_still_scores(
    flow: Services, state_machine: str
) -> None:
    flow.pipeline_outcomes[TRAINING] = [("Failed", GATE_MESSAGE)]
    result = _run(flow, state_machine)

    assert result.status == "Succeeded", result.error
    assert [s.name for s in result.stages] == STAGES
    train, score = result.stage("train"), result.stage("score")
    assert train is not None and train.document["failure_reason"] == GATE_MESSAGE
    assert score is not None and score.document["status"] == "Succeeded"
    warning, info = _notifications(flow)
    assert (warning["severity"], warning["subject"], warning["source"]) == (
        "warning",
        "daily flow: no model registered",
        "flow:train",
    )
    assert warning["message"] == GATE_MESSAGE
    assert (info["severity"], info["subject"]) == ("info", "daily flow succeeded")


def test_without_an_approved_champion_scoring_is_skipped_with_a_warning(
    flow: Services, state_machine: str
) -> None:
    _champion_status(flow.endpoint, "Rejected")
    scorings = _executions(flow, SCORING)
    result = _run(flow, state_machine)

    assert result.status == "Succeeded", result.error
    score = result.stage("score")
    assert score is not None and score.document["status"] == "Skipped"
    assert _executions(flow, SCORING) == scorings, "scoring started without a champion"
    warning, info = _notifications(flow)
    assert (warning["severity"], warning["subject"]) == ("warning", "daily flow: no champion to score with")
    assert info["severity"] == "info"
