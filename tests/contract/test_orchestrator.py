"""The orchestrator contract, run against both adapters: the in-process flow and Step Functions (moto
server with its ASL engine on). Each adapter runs a two-stage flow, once succeeding and once failing in
its second stage; the results must read the same."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from lakeml.core import aws
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.settings import Settings
from lakeml.flow.local import LocalOrchestrator
from lakeml.flow.port import FlowRequest, Orchestrator, StageOutcome
from lakeml.flow.stages import Stage
from lakeml.flow.stepfunctions import StepFunctionsOrchestrator
from lakeml.notify.local import LocalNotifier
from tests.contract.aws_emulator import REGION, client

ROLE = "arn:aws:iam::123456789012:role/lakeml-flow"


@dataclass
class Flows:
    succeeding: Orchestrator
    failing: Orchestrator
    notifier: LocalNotifier | None


def _local(tmp_path: Path) -> Flows:
    notifier = LocalNotifier(tmp_path / "state.db")
    ports = SimpleNamespace(notifier=notifier)

    def extract(ctx: object) -> dict[str, object]:
        return {"summary": "extracted 3 rows", "rows": 3}

    def load(ctx: object) -> dict[str, object]:
        return {"summary": "loaded 3 rows", "rows": 3}

    def broken(ctx: object) -> dict[str, object]:
        raise LakemlError("boom: the load failed")

    settings = Settings(home=tmp_path)
    good = (Stage("extract", "", extract), Stage("load", "", load))
    bad = (Stage("extract", "", extract), Stage("load", "", broken))
    return Flows(LocalOrchestrator(settings, ports, good), LocalOrchestrator(settings, ports, bad), notifier)


def _state_machine(endpoint: str, failing: bool) -> str:
    load = (
        {"Type": "Fail", "Error": "StageFailed", "Cause": "boom: the load failed"}
        if failing
        else {"Type": "Pass", "Result": {"summary": "loaded 3 rows", "rows": 3}, "End": True}
    )
    definition = {
        "StartAt": "extract",
        "States": {
            "extract": {"Type": "Pass", "Result": {"summary": "extracted 3 rows", "rows": 3}, "Next": "load"},
            "load": load,
        },
    }
    created = client("stepfunctions", endpoint).create_state_machine(
        name=f"lakeml-flow-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )
    return str(created["stateMachineArn"])


def _stepfunctions(endpoint: str) -> Flows:
    requests.post(
        f"{endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
    ).raise_for_status()
    sfn = aws.client("stepfunctions", REGION, endpoint)

    def orchestrator(failing: bool) -> StepFunctionsOrchestrator:
        # a hand-written two-state machine: every state is a stage (stages=None)
        return StepFunctionsOrchestrator(
            sfn, _state_machine(endpoint, failing), poll_seconds=0.05, timeout_s=60, stages=None
        )

    return Flows(orchestrator(False), orchestrator(True), None)


@pytest.fixture(params=["local", "stepfunctions"])
def flows(request: pytest.FixtureRequest, tmp_path: Path) -> Flows:
    if request.param == "local":
        return _local(tmp_path)
    return _stepfunctions(request.getfixturevalue("aws_endpoint"))


def test_a_flow_that_succeeds_reports_every_stage_in_order(flows: Flows) -> None:
    seen: list[StageOutcome] = []
    result = flows.succeeding.run(FlowRequest(), on_stage=seen.append)

    assert result.status == "Succeeded" and result.exit_code == 0
    assert [s.name for s in result.stages] == ["extract", "load"] == [s.name for s in seen]
    assert [s.summary for s in result.stages] == ["extracted 3 rows", "loaded 3 rows"]
    assert result.stage("load") is not None and result.stage("load").document["rows"] == 3  # type: ignore[union-attr]
    assert result.execution_id


def test_a_failing_stage_ends_the_flow_and_says_which_and_why(flows: Flows) -> None:
    result = flows.failing.run(FlowRequest())

    assert result.status == "Failed" and result.exit_code == 1
    assert result.failed_stage == "load"
    assert "boom: the load failed" in (result.error or "")
    assert [(s.name, s.status) for s in result.stages] == [("extract", "Succeeded"), ("load", "Failed")]


def test_the_local_flow_notifies_success_and_failure(tmp_path: Path) -> None:
    flows = _local(tmp_path)
    flows.succeeding.run(FlowRequest())
    flows.failing.run(FlowRequest())

    assert flows.notifier is not None
    latest, earlier = flows.notifier.recent(2)
    assert (latest.severity, latest.source) == ("critical", "flow:load")
    assert "boom" in latest.message
    assert (earlier.severity, earlier.subject) == ("info", "daily flow succeeded")


def test_step_functions_without_a_state_machine_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="LAKEML_AWS__STATE_MACHINE_ARN"):
        StepFunctionsOrchestrator(sfn=None, state_machine_arn=None).run(FlowRequest())
