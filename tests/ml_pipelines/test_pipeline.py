"""The one definition: built offline with networking to AWS impossible, deterministic (snapshot), gated by
constants, and every `Std:JsonGet` / condition / FailStep message evaluated against real evaluation.json
files produced by the evaluate step.

Regenerate the snapshots after an intended change with:
    .venv/bin/python -m tests.ml_pipelines.test_pipeline --regenerate
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml_pipelines import gates

pytestmark = pytest.mark.xdist_group("ml_steps")  # shares the step chain of conftest.py
REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"


def build(batch: bool) -> dict[str, Any]:
    from ml_pipelines.pipeline import Target, definition

    return definition(Target(), batch=batch)


class NetworkForbidden(AssertionError):
    pass


@pytest.fixture(scope="module")
def no_network() -> Iterator[list[str]]:
    """Any socket connect, DNS lookup or botocore request of this thread raises (and is recorded).

    Only the building thread is watched: the definition is built here, and a background thread left by
    an earlier test in the same xdist worker (a server's keep-alive, a poller) is not the build's."""
    attempts: list[str] = []
    builder = threading.get_ident()

    def refusing(original: Any) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != builder:
                return original(*args, **kwargs)
            attempts.append(repr(args[:2]))
            raise NetworkForbidden(f"network use while building the definition: {args[:2]!r}")

        return refuse

    patches = [
        (socket.socket, "connect"),
        (socket.socket, "connect_ex"),
        (socket, "create_connection"),
        (socket, "getaddrinfo"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name in patches]
    for owner, name, value in saved:
        setattr(owner, name, refusing(value))
    import botocore.endpoint

    original_send = botocore.endpoint.Endpoint._send
    botocore.endpoint.Endpoint._send = refusing(original_send)  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        botocore.endpoint.Endpoint._send = original_send  # type: ignore[method-assign]
        for owner, name, value in saved:
            setattr(owner, name, value)


@pytest.fixture(scope="module")
def training(no_network: list[str]) -> dict[str, Any]:
    return build(batch=False)


@pytest.fixture(scope="module")
def batch(no_network: list[str]) -> dict[str, Any]:
    return build(batch=True)


def steps_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step by name, including those nested in condition branches."""
    found: dict[str, dict[str, Any]] = {}

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            if step["Type"] == "Condition":
                walk(step["Arguments"]["IfSteps"])
                walk(step["Arguments"]["ElseSteps"])

    walk(document["Steps"])
    return found


# --- a tiny evaluator of the definition's functions, independent of the local runner ---------------------
def json_path(document: Any, path: str) -> Any:
    current = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        current = current[int(part[1:-1])] if part.startswith("[") else current[part]
    return current


def resolve(expr: Any, property_files: dict[str, Any], parameters: dict[str, Any]) -> Any:
    if isinstance(expr, dict) and "Std:JsonGet" in expr:
        spec = expr["Std:JsonGet"]
        return json_path(property_files[spec["PropertyFile"]["Get"]], spec["Path"])
    if isinstance(expr, dict) and "Std:Join" in expr:
        spec = expr["Std:Join"]
        return spec["On"].join(str(resolve(v, property_files, parameters)) for v in spec["Values"])
    if isinstance(expr, dict) and "Get" in expr and expr["Get"].startswith("Parameters."):
        return parameters[expr["Get"].removeprefix("Parameters.")]
    assert not isinstance(expr, dict), f"unexpected expression {expr}"
    return expr


def condition_holds(condition: dict[str, Any], files: dict[str, Any]) -> bool:
    assert condition["Type"] == "GreaterThanOrEqualTo", condition["Type"]
    return float(resolve(condition["LeftValue"], files, {})) >= float(
        resolve(condition["RightValue"], files, {})
    )


def json_gets(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "Std:JsonGet" in node:
            yield node["Std:JsonGet"]
        for value in node.values():
            yield from json_gets(value)
    elif isinstance(node, list):
        for value in node:
            yield from json_gets(value)


# --- evaluation.json files made by the real evaluate step (tests/ml_pipelines/conftest.py) --------------
@pytest.fixture(scope="module")
def evaluations(good: dict[str, Any], shuffled: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"good": good["evaluation"], "shuffled": shuffled["evaluation"]}


def files_for(evaluation: dict[str, Any]) -> dict[str, Any]:
    return {"Steps.Evaluate.PropertyFiles.Evaluation": evaluation}


# --- tests -------------------------------------------------------------------------------------------------
def test_building_both_definitions_makes_no_network_call(
    training: dict[str, Any], batch: dict[str, Any], no_network: list[str]
) -> None:
    assert no_network == []
    assert [s["Name"] for s in training["Steps"]] == [
        "IngestFeatures",
        "Prepare",
        "Tune",
        "Evaluate",
        "CheckGates",
    ]
    assert [s["Name"] for s in batch["Steps"]] == ["BatchInputs", "CreateModel", "Score"]


@pytest.mark.parametrize("kind", ["training", "batch"])
def test_definition_matches_the_committed_snapshot(
    kind: str, training: dict[str, Any], batch: dict[str, Any]
) -> None:
    from ml_pipelines.pipeline import render

    document = training if kind == "training" else batch
    expected = (SNAPSHOTS / f"{kind}.json").read_text()
    # The snapshot was written by another process (`--regenerate`), so equality also proves that the
    # JSON does not depend on the process (no timestamps, random names or dict-order accidents).
    assert render(document) == expected, (
        "definition changed; if intended, run `.venv/bin/python -m tests.ml_pipelines.test_pipeline --regenerate`"
    )


def test_parameters_cover_input_instances_budget_and_group_but_not_the_gates(
    training: dict[str, Any],
) -> None:
    names = {p["Name"]: p for p in training["Parameters"]}
    assert {
        "InputDataUri",
        "ProcessingInstanceType",
        "TrainingInstanceType",
        "MaxTuningJobs",
        "MaxParallelTuningJobs",
        "ModelPackageGroup",
    } <= set(names)
    assert names["MaxTuningJobs"]["Type"] == "Integer"
    assert not any("auc" in n.lower() or "improvement" in n.lower() for n in names)
    limits = training["Steps"][2]["Arguments"]["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits == {
        "MaxParallelTrainingJobs": {"Get": "Parameters.MaxParallelTuningJobs"},
        "MaxNumberOfTrainingJobs": {"Get": "Parameters.MaxTuningJobs"},
    }


def test_tuning_is_bayesian_maximising_validation_auc_over_xgboost_ranges(training: dict[str, Any]) -> None:
    config = training["Steps"][2]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    ranges = {r["Name"] for kind in config["ParameterRanges"].values() for r in kind}
    assert {"eta", "max_depth", "min_child_weight", "subsample", "colsample_bytree", "lambda"} <= ranges
    definition = training["Steps"][2]["Arguments"]["TrainingJobDefinition"]
    assert "ContainerEntrypoint" not in definition["AlgorithmSpecification"]  # the image's `train`
    assert "sagemaker_program" not in json.dumps(definition).lower()  # no uploaded code


def test_registration_is_pending_manual_approval_with_metrics_and_lineage(training: dict[str, Any]) -> None:
    register = steps_of(training)["Register"]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["ModelMetrics"]["ModelQuality"]["Statistics"]["ContentType"] == "application/json"
    assert set(register["CustomerMetadataProperties"]) == {
        "data_snapshot",
        "git_sha",
        "dbt_invocation_id",
        "pipeline_execution_id",
    }
    # the invocation IngestFeatures resolved and recorded, not the parameter (whose default is `latest`)
    assert register["CustomerMetadataProperties"]["dbt_invocation_id"]["Std:JsonGet"] == {
        "PropertyFile": {"Get": "Steps.IngestFeatures.PropertyFiles.FeatureIngestion"},
        "Path": "lineage.dbt_invocation_id",
    }
    assert register["CustomerMetadataProperties"]["pipeline_execution_id"] == {
        "Get": "Execution.PipelineExecutionId"
    }
    deploy = steps_of(training)["DeployStaging"]
    assert deploy["Arguments"]["model_package_arn"] == {"Get": "Steps.Register.ModelPackageArn"}


def test_every_jsonget_path_resolves_in_a_real_evaluation_json(
    training: dict[str, Any], evaluations: dict[str, dict[str, Any]]
) -> None:
    evaluation_file = files_for({})
    paths = {get["Path"] for get in json_gets(training) if get["PropertyFile"]["Get"] in evaluation_file}
    assert {"metrics.auc.value", "gates.beats_champion.threshold", "gates.summary"} <= paths
    for name, evaluation in evaluations.items():
        for path in paths:
            value = json_path(evaluation, path)
            assert value is not None, f"{path} is null in the {name} evaluation.json"


def test_gate_conditions_use_the_constants_in_code(training: dict[str, Any]) -> None:
    conditions = steps_of(training)["CheckGates"]["Arguments"]["Conditions"]
    assert conditions[0]["RightValue"] == gates.AUC_FLOOR
    assert conditions[1]["RightValue"]["Std:JsonGet"]["Path"] == "gates.beats_champion.threshold"


def test_a_good_model_passes_the_gates_of_the_definition(
    training: dict[str, Any], evaluations: dict[str, dict[str, Any]]
) -> None:
    conditions = steps_of(training)["CheckGates"]["Arguments"]["Conditions"]
    assert all(condition_holds(c, files_for(evaluations["good"])) for c in conditions)


def test_shuffled_labels_fail_the_gate_and_the_fail_message_names_gate_and_numbers(
    training: dict[str, Any], evaluations: dict[str, dict[str, Any]]
) -> None:
    files = files_for(evaluations["shuffled"])
    conditions = steps_of(training)["CheckGates"]["Arguments"]["Conditions"]
    assert not all(condition_holds(c, files) for c in conditions)
    fail = steps_of(training)["GateFailed"]
    message = resolve(fail["Arguments"]["ErrorMessage"], files, {})
    auc = evaluations["shuffled"]["metrics"]["auc"]["value"]
    assert "gate auc_floor failed" in message
    assert f"test AUC {auc:.4f} < floor {gates.AUC_FLOOR:.4f}" in message
    assert f"test AUC={auc}" in message and f"floor={gates.AUC_FLOOR}" in message


# The commands the definitions and the Dockerfile name are checked in tests/test_entrypoints.py.


def regenerate() -> None:
    from ml_pipelines.pipeline import render

    SNAPSHOTS.mkdir(exist_ok=True)
    for kind, batch_flag in (("training", False), ("batch", True)):
        (SNAPSHOTS / f"{kind}.json").write_text(render(build(batch_flag)))
        print(f"wrote {SNAPSHOTS / f'{kind}.json'}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python -m tests.ml_pipelines.test_pipeline --regenerate")
    regenerate()
