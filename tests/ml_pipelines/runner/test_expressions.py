"""Functions and conditions resolve as SageMaker resolves them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_pipelines.runner.errors import DefinitionError
from ml_pipelines.runner.expressions import Resolver
from ml_pipelines.runner.paths import parse_path


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    report = tmp_path / "evaluation.json"
    report.write_text(json.dumps({"metrics": {"auc": {"value": 0.83}}, "classes": ["a", "b"]}))
    return Resolver(
        parameters={"Threshold": 0.8, "Group": "churn", "Flag": True},
        execution={"PipelineExecutionId": "abc123"},
        step_properties={
            "Eval": {
                "ProcessingOutputConfig": {"Outputs": {"evaluation": {"S3Output": {"S3Uri": "s3://b/k"}}}}
            },
            "Tune": {"TrainingJobSummaries": [{"TrainingJobName": "best"}, {"TrainingJobName": "second"}]},
        },
        property_file=lambda step, name: report,
    )


JSON_AUC = {
    "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"}, "Path": "metrics.auc.value"}
}


def test_parse_path_handles_keys_and_indices():
    assert parse_path("Steps.Eval.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri") == [
        "Steps",
        "Eval",
        "ProcessingOutputConfig",
        "Outputs",
        "evaluation",
        "S3Output",
        "S3Uri",
    ]
    assert parse_path("Steps.Tune.TrainingJobSummaries[1].TrainingJobName")[3] == 1
    assert parse_path("FinalMetricDataList['validation:auc'].Value")[1] == "validation:auc"


def test_get_join_and_json_get(resolver):
    assert resolver.resolve({"Get": "Parameters.Group"}) == "churn"
    assert resolver.resolve({"Get": "Execution.PipelineExecutionId"}) == "abc123"
    assert resolver.resolve({"Get": "Steps.Tune.TrainingJobSummaries[1].TrainingJobName"}) == "second"
    assert (
        resolver.resolve({"Std:Join": {"On": "/", "Values": ["s3://x", {"Get": "Parameters.Group"}, 3]}})
        == "s3://x/churn/3"
    )
    assert resolver.resolve(JSON_AUC) == 0.83
    assert (
        resolver.resolve(
            {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
                    "Path": "classes[1]",
                }
            }
        )
        == "b"
    )


def test_json_get_on_a_missing_path_names_file_and_path(resolver):
    with pytest.raises(DefinitionError, match="Report:metrics.pr_auc.value.*no property 'pr_auc'"):
        resolver.resolve(
            {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
                    "Path": "metrics.pr_auc.value",
                }
            }
        )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            {
                "Type": "GreaterThanOrEqualTo",
                "LeftValue": JSON_AUC,
                "RightValue": {"Get": "Parameters.Threshold"},
            },
            True,
        ),
        ({"Type": "GreaterThan", "LeftValue": JSON_AUC, "RightValue": 0.83}, False),
        ({"Type": "LessThan", "LeftValue": JSON_AUC, "RightValue": 0.9}, True),
        ({"Type": "LessThanOrEqualTo", "LeftValue": 0.84, "RightValue": JSON_AUC}, False),
        ({"Type": "Equals", "LeftValue": {"Get": "Parameters.Group"}, "RightValue": "churn"}, True),
        ({"Type": "Equals", "LeftValue": {"Get": "Parameters.Flag"}, "RightValue": True}, True),
        ({"Type": "In", "QueryValue": {"Get": "Parameters.Group"}, "Values": ["upsell", "churn"]}, True),
        ({"Type": "In", "QueryValue": "x", "Values": ["upsell", "churn"]}, False),
        ({"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": 1, "RightValue": 1}}, False),
        (
            {
                "Type": "Or",
                "Conditions": [
                    {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                    {"Type": "LessThan", "LeftValue": 1, "RightValue": 2},
                ],
            },
            True,
        ),
    ],
)
def test_every_condition_type(resolver, condition, expected):
    assert resolver.condition(condition, "test") is expected


def test_comparing_a_non_number_is_a_clear_error(resolver):
    with pytest.raises(DefinitionError, match="'churn', which is not a number"):
        resolver.condition(
            {"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.Group"}, "RightValue": 1}, "x"
        )
