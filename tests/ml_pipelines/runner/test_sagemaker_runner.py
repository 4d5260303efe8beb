"""What the SageMaker adapter reads from an execution's steps (moto runs none, so SageMaker's answers are
given by a botocore Stubber): step types and timings, a FailStep's message, the registered version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ml_pipelines.runner.sagemaker import SageMakerPipelineRunner

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-training/execution/k3x9q2"
PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/lakeml-churn/4"
T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def step(name: str, status: str, metadata: dict[str, Any], seconds: int = 60, **extra: Any) -> dict[str, Any]:
    return {
        "StepName": name,
        "StepStatus": status,
        "StartTime": T0,
        "EndTime": T0 + timedelta(seconds=seconds),
        "Metadata": metadata,
        **extra,
    }


def stubbed(execution_status: str, steps: list[dict[str, Any]], failure: str = "") -> tuple[Any, Stubber]:
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    described = {"PipelineExecutionArn": ARN, "PipelineExecutionStatus": execution_status}
    if failure:
        described["FailureReason"] = failure
    stubber.add_response("describe_pipeline_execution", described, {"PipelineExecutionArn": ARN})
    stubber.add_response(
        "list_pipeline_parameters_for_execution",
        {"PipelineParameters": [{"Name": "MaxTuningJobs", "Value": "4"}]},
        {"PipelineExecutionArn": ARN},
    )
    stubber.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": steps},
        {"PipelineExecutionArn": ARN, "SortOrder": "Ascending"},
    )
    return client, stubber


def test_a_gate_failure_reads_as_the_fail_steps_message() -> None:
    job = "arn:aws:sagemaker:eu-west-1:123456789012:processing-job/x"
    client, stubber = stubbed(
        "Failed",
        [
            step("Evaluate", "Succeeded", {"ProcessingJob": {"Arn": job}}, seconds=90),
            step("CheckGates", "Succeeded", {"Condition": {"Outcome": "False"}}, seconds=1),
            step(
                "GateFailed",
                "Failed",
                {"Fail": {"ErrorMessage": "Model not registered: gate beats_champion failed"}},
                FailureReason="Step failure",
            ),
        ],
        failure="Step failure: One or multiple steps failed.",
    )
    with stubber:
        status = SageMakerPipelineRunner(client, "role").describe(ARN)
    assert status.status == "Failed" and status.failed_by_fail_step
    assert status.failure_reason == "Model not registered: gate beats_champion failed"
    assert status.failed_step == "GateFailed" and status.logs_hint and ARN in status.logs_hint
    assert [(s.name, s.type, s.seconds) for s in status.steps] == [
        ("Evaluate", "Processing", 90.0),
        ("CheckGates", "Condition", 1.0),
        ("GateFailed", "Fail", 60.0),
    ]
    assert status.parameters == {"MaxTuningJobs": "4"}
    assert status.pipeline == "lakeml-churn-training" and status.pipeline_execution_id == "k3x9q2"


def test_a_failed_job_step_gives_its_own_reason() -> None:
    client, stubber = stubbed(
        "Failed",
        [step("Prepare", "Failed", {"ProcessingJob": {"Arn": "x"}}, FailureReason="AlgorithmError: no rows")],
        failure="Step failure: One or multiple steps failed.",
    )
    with stubber:
        status = SageMakerPipelineRunner(client, "role").describe(ARN)
    assert not status.failed_by_fail_step
    assert (status.failed_step, status.failure_reason) == ("Prepare", "AlgorithmError: no rows")


def test_the_registered_version_comes_from_the_register_step_and_the_registry() -> None:
    client, stubber = stubbed(
        "Succeeded",
        [
            step("Register-RegisterModel", "Succeeded", {"RegisterModel": {"Arn": PACKAGE}}),
            step(
                "DeployStaging", "Succeeded", {"Lambda": {"Arn": "arn:aws:lambda:x", "OutputParameters": []}}
            ),
        ],
    )
    stubber.add_response(
        "describe_model_package",
        {
            "ModelPackageName": "lakeml-churn",
            "ModelPackageGroupName": "lakeml-churn",
            "ModelPackageVersion": 4,
            "ModelPackageArn": PACKAGE,
            "CreationTime": T0,
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "ModelApprovalStatus": "PendingManualApproval",
        },
        {"ModelPackageName": PACKAGE},
    )
    with stubber:
        status = SageMakerPipelineRunner(client, "role").describe(ARN)
    assert status.status == "Succeeded" and status.failure_reason is None
    assert status.registered is not None
    assert status.registered.model_dump() == {
        "group": "lakeml-churn",
        "version": 4,
        "status": "PendingManualApproval",
    }


@pytest.mark.parametrize("code", ["ResourceNotFound", "ValidationException"])
def test_upsert_creates_when_the_pipeline_is_missing(code: str) -> None:
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_pipeline", code, "Pipeline p does not exist")
        stubber.add_response("create_pipeline", {"PipelineArn": "arn:aws:sagemaker:eu-west-1:1:pipeline/p"})
        result = SageMakerPipelineRunner(client, "arn:aws:iam::1:role/r").upsert("p", {"Version": "x"})
    assert result.action == "created"
