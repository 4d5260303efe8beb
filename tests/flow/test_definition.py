"""The rendered state machine: committed and fresh, valid for statelint and asl-validator, with exactly
Terraform's placeholders, and the same stages as the local flow (one declaration, two runners)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lakeml.flow import asl
from lakeml.flow.aws_spec import PipelineRun, Placeholder
from lakeml.flow.stages import GATE_FAILURE_MESSAGE, STAGES
from tests.conftest import REPO

COMMITTED = REPO / "infra" / "modules" / "flow" / "daily_flow.asl.json"
ASL_VALIDATOR = REPO / "node_modules" / ".bin" / "asl-validator"
STATELINT = Path(sys.executable).parent / "statelint"


def _statelint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STATELINT), str(path)], capture_output=True, text=True, timeout=60)


def _asl_validator(path: Path) -> subprocess.CompletedProcess[str]:
    if not ASL_VALIDATOR.exists():
        pytest.fail(f"{ASL_VALIDATOR} is missing: `make setup` installs it (npm ci)")
    return subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=60
    )


def _states(document: dict[str, Any]) -> Any:
    """Every state of the definition, nested ones (Map, Parallel) included."""
    for name, state in document["States"].items():
        yield name, state
        for branch in [
            *state.get("Branches", []),
            *([state["ItemProcessor"]] if "ItemProcessor" in state else []),
        ]:
            yield from _states(branch)


def test_the_committed_definition_is_the_rendered_declaration() -> None:
    assert COMMITTED.read_text() == asl.to_json(asl.definition()), (
        "infra/modules/flow/daily_flow.asl.json is stale: run "
        "`lakeml flow definition --output infra/modules/flow/daily_flow.asl.json`"
    )


def test_statelint_and_asl_validator_accept_it() -> None:
    linted = _statelint(COMMITTED)
    assert linted.returncode == 0 and not linted.stdout.strip(), linted.stdout + linted.stderr
    validated = _asl_validator(COMMITTED)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_both_validators_refuse_a_broken_definition(tmp_path: Path) -> None:
    """They really check: a transition to a state that does not exist fails both."""
    document = asl.definition()
    document["States"]["ingest"]["Next"] = "no such state"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(document))

    linted = _statelint(broken)
    assert linted.returncode != 0 and 'No state found named "no such state"' in linted.stdout
    assert _asl_validator(broken).returncode != 0


def test_only_terraforms_placeholders_and_each_of_them() -> None:
    text = COMMITTED.read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == {p.value for p in Placeholder}
    json.loads(text)  # valid JSON as committed: the placeholders sit inside strings


def test_the_aws_stages_are_the_declarations_non_local_ones_in_order() -> None:
    rendered = asl.stage_states(json.loads(COMMITTED.read_text()))

    assert rendered == [s.name for s in STAGES if not s.local_only]
    assert [s.name for s in STAGES if s.local_only] == ["source", "views"]
    assert rendered == ["ingest", "transform", "quality", "train", "score"]


def test_every_stage_notifies_and_fails_on_error_and_every_task_is_bounded() -> None:
    document = asl.definition()
    for name in asl.stage_states(document):
        state = document["States"][name]
        (catch,) = state["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == f"notify {name} failed"
        notify = document["States"][catch["Next"]]
        assert notify["Parameters"]["Payload"]["stage"] == name
        assert document["States"][notify["Next"]]["Type"] == "Fail"
    for name, state in _states(document):
        if state["Type"] == "Task":
            assert state.get("TimeoutSeconds"), f"{name} has no timeout"
            assert state.get("Retry"), f"{name} retries nothing"
    assert document["TimeoutSeconds"] > 0


def test_the_gate_pattern_matches_the_training_pipelines_failstep_message() -> None:
    """The Choice tells 'no model registered' from a failure by the FailStep's message: the pipeline's
    definition (snapshot of ml_pipelines) must still start it the way the declaration expects."""
    snapshot = (REPO / "tests" / "ml_pipelines" / "snapshots" / "training.json").read_text()
    assert json.dumps(GATE_FAILURE_MESSAGE) in snapshot
    (train,) = [s for s in STAGES if s.name == "train"]
    assert isinstance(train.aws, PipelineRun) and train.aws.gate_message
    pattern = re.escape(train.aws.gate_message).replace(r"\*", ".*")
    assert re.fullmatch(pattern, GATE_FAILURE_MESSAGE + "below the floor. Numbers: test AUC=0.6")
    assert not re.fullmatch(pattern, "Step failure: One or multiple steps failed.")


def test_cli_prints_writes_and_refuses(lakeml, tmp_path: Path) -> None:
    printed = lakeml("--json", "flow", "definition")
    assert printed.code == 0 and printed.json == asl.definition()

    out = tmp_path / "flow" / "daily.asl.json"
    written = lakeml("--json", "flow", "definition", "--output", str(out))
    assert written.code == 0, written
    assert written.json["stages"] == ["ingest", "transform", "quality", "train", "score"]
    assert out.read_text() == COMMITTED.read_text()

    concrete = lakeml("flow", "definition", "--resource", "notify_function_arn=arn:aws:lambda:x")
    assert concrete.code == 0 and "arn:aws:lambda:x" in concrete.stdout
    assert "${notify_function_arn}" not in concrete.stdout

    assert lakeml("flow", "definition", "--resource", "nope=1").code == 2
    assert lakeml("flow", "definition", "--output", str(tmp_path)).code == 1  # a folder: cannot write
