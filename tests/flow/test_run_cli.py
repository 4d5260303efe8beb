"""`lakeml run` through the CLI on AWS: it starts the Step Functions state machine and follows it; it never
runs a stage (nor the local pipeline runner) in this process. moto executes the state machine."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.contract.aws_emulator import REGION, client, moto_server

ROLE = "arn:aws:iam::123456789012:role/lakeml-flow"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        requests.post(
            f"{url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        ).raise_for_status()
        yield url


def _state_machine(endpoint: str, *, fail_at: str | None = None) -> str:
    names = ["ingest", "transform", "train"]
    states: dict[str, dict] = {}
    for i, name in enumerate(names):
        nxt = {"Next": names[i + 1]} if i + 1 < len(names) else {"End": True}
        states[name] = (
            {"Type": "Fail", "Error": "StageFailed", "Cause": f"{name} broke"}
            if name == fail_at
            else {"Type": "Pass", "Result": {"summary": f"{name} done"}, **nxt}
        )
    arn = client("stepfunctions", endpoint).create_state_machine(
        name=f"lakeml-daily-{uuid.uuid4().hex[:8]}",
        definition=json.dumps({"StartAt": names[0], "States": states}),
        roleArn=ROLE,
    )["stateMachineArn"]
    return str(arn)


def _aws(endpoint: str, state_machine: str) -> dict[str, str]:
    return {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__ENDPOINT_URL": endpoint,
        "LAKEML_AWS__LAKE_BUCKET": "lakeml-test-lake",
        "LAKEML_AWS__STATE_MACHINE_ARN": state_machine,
    }


def test_run_on_aws_follows_the_state_machine_and_runs_nothing_here(
    lakeml, home: Path, endpoint: str
) -> None:
    result = lakeml(
        "--json",
        "run",
        "--param",
        "MaxTuningJobs=2",
        env=_aws(endpoint, _state_machine(endpoint)),
        subprocess=False,
    )

    assert result.code == 0, result
    document = result.json
    sent = client("stepfunctions", endpoint).describe_execution(executionArn=document["execution_id"])
    assert json.loads(sent["input"]) == {  # the state machine's input shape (lakeml/flow/asl.py)
        "tables": ["CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS"],
        "pipeline_params": [{"Name": "MaxTuningJobs", "Value": "2"}],
    }
    assert document["status"] == "Succeeded"
    assert document["execution_id"].startswith("arn:aws:states:")
    assert list(document["stages"]) == ["ingest", "transform", "train"]
    assert document["stages"]["transform"]["summary"] == "transform done"
    assert not (home / "pipelines").exists(), "the local pipeline runner ran"
    assert not (home / "source").exists(), "the local Snowflake twin started"


def test_a_failed_execution_exits_1_naming_the_stage_and_the_cause(lakeml, endpoint: str) -> None:
    state_machine = _state_machine(endpoint, fail_at="transform")
    result = lakeml("--json", "run", env=_aws(endpoint, state_machine), subprocess=False)

    assert result.code == 1, result
    assert result.json["failed_stage"] == "transform"
    assert "transform broke" in result.json["error"]
    assert "transform broke" in result.stderr


def test_run_on_aws_without_a_state_machine_exits_2_naming_the_setting(lakeml, endpoint: str) -> None:
    env = _aws(endpoint, "")
    env.pop("LAKEML_AWS__STATE_MACHINE_ARN")
    result = lakeml("run", env=env, subprocess=False)

    assert result.code == 2, result
    assert "LAKEML_AWS__STATE_MACHINE_ARN" in result.stderr
