"""The pipeline runner contract, run against both adapters: the local runner (definitions under
LAKEML_HOME) and SageMaker Pipelines (a moto server). The definition is tiny — a Condition on a parameter
and a FailStep — so the local runner executes it without any job; moto records executions and reports
them Succeeded at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from lakeml.core import aws
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.settings import Settings
from ml_pipelines.runner.local import LocalPipelineRunner
from ml_pipelines.runner.port import ExecutionSummary, PipelineNotFound, PipelineRunner, StepStatus
from ml_pipelines.runner.sagemaker import SageMakerPipelineRunner
from tests.contract.aws_emulator import REGION

ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker"


def tiny_definition(floor: float = 0.3) -> dict[str, Any]:
    """Succeeds when the Threshold parameter is at least `floor`; else its FailStep says so."""
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5}],
        "Steps": [
            {
                "Name": "Gate",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "GreaterThanOrEqualTo",
                            "LeftValue": {"Get": "Parameters.Threshold"},
                            "RightValue": floor,
                        }
                    ],
                    "IfSteps": [],
                    "ElseSteps": [
                        {"Name": "TooLow", "Type": "Fail", "Arguments": {"ErrorMessage": "threshold too low"}}
                    ],
                },
            }
        ],
    }


class MotoSageMaker:
    """moto's SageMaker client, plus the one pipeline API moto lacks (ListPipelineExecutionSteps),
    answered by a botocore Stubber: no steps, as moto runs none."""

    def __init__(self, endpoint: str) -> None:
        self.client = aws.client("sagemaker", REGION, endpoint)
        self.stubbed = aws.client("sagemaker", REGION, endpoint)
        self.stubber = Stubber(self.stubbed)
        self.stubber.activate()

    def list_pipeline_execution_steps(self, **kwargs: Any) -> dict[str, Any]:
        self.stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": []}, kwargs)
        return dict(self.stubbed.list_pipeline_execution_steps(**kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture(params=["local", "sagemaker"])
def runner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PipelineRunner]:
    if request.param == "local":
        yield LocalPipelineRunner(Settings(home=tmp_path / "home"), registry=None)
        return
    endpoint = request.getfixturevalue("aws_endpoint")
    yield SageMakerPipelineRunner(MotoSageMaker(endpoint), ROLE, poll_seconds=0.01, timeout_s=30)


def unique(request: pytest.FixtureRequest) -> str:
    """Pipeline names per test: the moto server is shared by the module."""
    return "lakeml-test-" + request.node.name.split("[")[0].removeprefix("test_")[:40].replace("_", "-")


def test_upsert_creates_then_updates(runner: PipelineRunner, request: pytest.FixtureRequest) -> None:
    name = unique(request)
    first = runner.upsert(name, tiny_definition(), description="contract")
    assert (first.pipeline, first.action) == (name, "created")
    assert first.arn.endswith(f":pipeline/{name}") and first.definition_bytes > 100
    assert runner.upsert(name, tiny_definition(floor=0.4)).action == "updated"


def test_start_of_a_pipeline_never_upserted_names_the_fix(runner: PipelineRunner) -> None:
    with pytest.raises(
        PipelineNotFound, match=r"lakeml-never-upserted does not exist.*`lakeml pipeline upsert`"
    ):
        runner.start("lakeml-never-upserted")


def test_a_started_execution_is_described_and_waited_to_its_end(
    runner: PipelineRunner, request: pytest.FixtureRequest
) -> None:
    name = unique(request)
    runner.upsert(name, tiny_definition())
    execution = runner.start(name)
    final = runner.wait(execution, timeout_s=30)
    assert final.status == "Succeeded" and final.terminal
    assert final.execution_id == execution and final.pipeline == name
    assert final.failure_reason is None and final.registered is None
    described = runner.describe(execution)
    assert described.status == "Succeeded" and described.pipeline_execution_id in execution


def test_parameters_are_passed_to_the_execution(
    runner: PipelineRunner, request: pytest.FixtureRequest
) -> None:
    name = unique(request)
    runner.upsert(name, tiny_definition())
    execution = runner.start(name, {"Threshold": "0.75"})
    assert runner.wait(execution, timeout_s=30).parameters["Threshold"] == "0.75"


def test_steps_are_reported_to_the_caller(runner: PipelineRunner, request: pytest.FixtureRequest) -> None:
    name = unique(request)
    runner.upsert(name, tiny_definition())
    seen: list[StepStatus] = []
    final = runner.wait(runner.start(name, on_step=seen.append), on_step=seen.append)
    # Every step the status lists was reported, and its last report is its final status.
    assert {s.name: s.status for s in seen} == {s.name: s.status for s in final.steps}


def test_executions_are_listed_newest_first_per_pipeline_or_all(
    runner: PipelineRunner, request: pytest.FixtureRequest
) -> None:
    name, other = unique(request), unique(request) + "-other"
    runner.upsert(name, tiny_definition())
    runner.upsert(other, tiny_definition())
    assert runner.executions(name) == []
    first = runner.wait(runner.start(name, {"Threshold": "0.75"})).execution_id
    second = runner.wait(runner.start(name, {"Threshold": "0.1"})).execution_id
    elsewhere = runner.wait(runner.start(other)).execution_id

    listed = runner.executions(name)
    assert {e.execution_id for e in listed} == {first, second}
    assert all(isinstance(e, ExecutionSummary) and e.pipeline == name for e in listed)
    starts = [e.started_at or "" for e in listed]
    assert all(starts) and starts == sorted(starts, reverse=True)
    for summary in listed:  # a summary agrees with what `describe` says of the same execution
        described = runner.describe(summary.execution_id)
        assert summary.status == described.status
        assert (summary.failure_reason is None) == (described.failure_reason is None)
    assert runner.executions(name, limit=1) == listed[:1]

    everything = runner.executions()
    assert {first, second, elsewhere} <= {e.execution_id for e in everything}
    every_start = [e.started_at or "" for e in everything]
    assert every_start == sorted(every_start, reverse=True)
    assert len(runner.executions(limit=2)) == 2


def test_executions_of_a_pipeline_never_upserted_names_the_fix(runner: PipelineRunner) -> None:
    with pytest.raises(PipelineNotFound, match="`lakeml pipeline upsert`"):
        runner.executions("lakeml-never-upserted")


# --- adapter-specific behaviour -------------------------------------------------------------------------
def test_local_fail_step_ends_the_execution_failed_with_its_message(tmp_path: Path) -> None:
    runner = LocalPipelineRunner(Settings(home=tmp_path), registry=None)
    runner.upsert("gated", tiny_definition())
    status = runner.wait(runner.start("gated", {"Threshold": "0.1"}))
    assert status.status == "Failed" and status.failed_by_fail_step
    assert status.failure_reason == "threshold too low" and status.failed_step == "TooLow"
    assert status.logs_hint == f"lakeml pipeline logs {status.execution_id} TooLow"
    assert status.graph is not None and Path(status.graph).is_file()


def test_local_upsert_refuses_what_the_local_runner_cannot_execute(tmp_path: Path) -> None:
    from ml_pipelines.runner.errors import UnsupportedFeature

    definition = tiny_definition()
    definition["Steps"].append({"Name": "Wait", "Type": "Callback", "Arguments": {}})
    with pytest.raises(UnsupportedFeature, match="step 'Wait' has type 'Callback'"):
        LocalPipelineRunner(Settings(home=tmp_path), registry=None).upsert("p", definition)


def test_sagemaker_upsert_without_a_role_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="LAKEML_AWS__SAGEMAKER_ROLE_ARN"):
        SageMakerPipelineRunner(sagemaker=None, role_arn="").upsert("p", tiny_definition())


def test_sagemaker_wait_gives_up_after_its_bound_saying_the_execution_goes_on() -> None:
    class Executing:
        def describe_pipeline_execution(self, **_: Any) -> dict[str, Any]:
            return {"PipelineExecutionStatus": "Executing"}

        def list_pipeline_parameters_for_execution(self, **_: Any) -> dict[str, Any]:
            return {"PipelineParameters": []}

        def list_pipeline_execution_steps(self, **_: Any) -> dict[str, Any]:
            return {"PipelineExecutionSteps": []}

    arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p/execution/abc"
    runner = SageMakerPipelineRunner(Executing(), ROLE, poll_seconds=0.0, sleep=lambda _: None)
    with pytest.raises(LakemlError, match="still Executing after 0 s; it goes on in SageMaker"):
        runner.wait(arn, timeout_s=0)


def test_sagemaker_executions_follow_pages_until_the_limit_newest_first() -> None:
    """moto answers ListPipelineExecutions in one page and in creation order: the paging and the limit
    are checked on a client that pages the way SageMaker does (newest first, NextToken)."""
    from datetime import UTC, datetime, timedelta

    base = datetime(2026, 12, 1, tzinfo=UTC)
    arns = [f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/p/execution/e{i}" for i in range(5)]
    newest_first = [
        {
            "PipelineExecutionArn": arn,
            "StartTime": base - timedelta(minutes=i),
            "PipelineExecutionStatus": "Failed" if i == 1 else "Succeeded",
            "PipelineExecutionFailureReason": "step Train failed" if i == 1 else "None",
        }
        for i, arn in enumerate(arns)
    ]

    class Paged:
        def __init__(self) -> None:
            self.requests: list[dict[str, Any]] = []

        def list_pipeline_executions(self, **request: Any) -> dict[str, Any]:
            self.requests.append(request)
            start = int(request.get("NextToken", "0"))
            end = start + min(request["MaxResults"], 2)  # pages of at most two
            page: dict[str, Any] = {"PipelineExecutionSummaries": newest_first[start:end]}
            return {**page, "NextToken": str(end)} if end < len(newest_first) else page

    client = Paged()
    runner = SageMakerPipelineRunner(client, ROLE)
    listed = runner.executions("p", limit=3)
    assert [e.execution_id for e in listed] == arns[:3] and len(client.requests) == 2
    assert client.requests[0]["SortOrder"] == "Descending" and "NextToken" not in client.requests[0]
    assert listed[0].started_at == "2026-12-01T00:00:00.000+00:00" and listed[0].failure_reason is None
    assert (listed[1].status, listed[1].failure_reason) == ("Failed", "step Train failed")
    assert [e.execution_id for e in runner.executions("p")] == arns  # every page without a limit
