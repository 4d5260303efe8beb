"""Hand-written definition fixtures: small pipelines built from the toy jobs in `jobs/`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.settings import load_settings
from ml_pipelines.runner.record import ExecutionRecord

PY = ["python3", "-m"]
JOBS = "tests.ml_pipelines.runner.jobs"


def processing(
    name: str, *args: str, inputs: str | dict = "s3://lakeml-lake/data/raw", **extra: Any
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {
                "ImageUri": "000000000000.dkr.ecr.eu-west-1.amazonaws.com/lakeml:latest",
                "ContainerEntrypoint": [*PY, f"{JOBS}.toy_process"],
                "ContainerArguments": ["--input", "/opt/ml/processing/input", *args],
            },
            "RoleArn": "arn:aws:iam::000000000000:role/lakeml-sagemaker",
            "ProcessingInputs": [
                {
                    "InputName": "input",
                    "AppManaged": False,
                    "S3Input": {
                        "S3Uri": inputs,
                        "LocalPath": "/opt/ml/processing/input",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "output",
                        "AppManaged": False,
                        "S3Output": {
                            "S3Uri": f"s3://lakeml-lake/pipelines/{name}/output",
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    },
                    {
                        "OutputName": "report",
                        "AppManaged": False,
                        "S3Output": {
                            "S3Uri": f"s3://lakeml-lake/pipelines/{name}/report",
                            "LocalPath": "/opt/ml/processing/report",
                            "S3UploadMode": "EndOfJob",
                        },
                    },
                ]
            },
        },
        "PropertyFiles": [
            {"PropertyFileName": "Report", "OutputName": "report", "FilePath": "evaluation.json"}
        ],
        **extra,
    }


def training_definition(channel: Any) -> dict[str, Any]:
    return {
        "AlgorithmSpecification": {
            "TrainingImage": "000000000000.dkr.ecr.eu-west-1.amazonaws.com/lakeml:latest",
            "TrainingInputMode": "File",
            "ContainerEntrypoint": [*PY, f"{JOBS}.toy_train"],
            "MetricDefinitions": [
                {"Name": "validation:objective", "Regex": r"validation-objective=([-0-9.]+)"}
            ],
        },
        "OutputDataConfig": {"S3OutputPath": "s3://lakeml-lake/pipelines/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "RoleArn": "arn:aws:iam::000000000000:role/lakeml-sagemaker",
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": channel,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
    }


def training(name: str, channel: Any, hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {**training_definition(channel), "HyperParameters": hyperparameters},
    }


def tuning(
    name: str,
    channel: Any,
    *,
    strategy: str = "Bayesian",
    jobs: int = 6,
    parallel: int = 2,
    early_stopping: str = "Off",
    ranges: dict | None = None,
    static: dict | None = None,
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Tuning",
        "Arguments": {
            "HyperParameterTuningJobConfig": {
                "Strategy": strategy,
                "ResourceLimits": {"MaxNumberOfTrainingJobs": jobs, "MaxParallelTrainingJobs": parallel},
                "TrainingJobEarlyStoppingType": early_stopping,
                "HyperParameterTuningJobObjective": {
                    "Type": "Maximize",
                    "MetricName": "validation:objective",
                },
                "ParameterRanges": ranges
                or {
                    "ContinuousParameterRanges": [
                        {"Name": "x", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}
                    ]
                },
            },
            "TrainingJobDefinition": {
                **training_definition(channel),
                "StaticHyperParameters": static or {"epochs": "3"},
            },
        },
    }


def definition(*steps: dict[str, Any], parameters: list[dict] | None = None) -> dict[str, Any]:
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": list(steps)}


@pytest.fixture
def settings(home: Path):
    return load_settings()


@pytest.fixture
def lake_input(settings) -> Path:
    """Three small files at s3://lakeml-lake/data/raw (mapped to the local lake)."""
    folder = settings.lake_dir / "data" / "raw"
    folder.mkdir(parents=True)
    for i in range(3):
        (folder / f"part-{i}.csv").write_text("a,b\n1,2\n3,4\n")
    return folder


@pytest.fixture
def run(settings, lake_input):
    from ml_pipelines.runner.definition import load
    from ml_pipelines.runner.engine import LocalRunner

    def _run(raw: dict[str, Any], **overrides: str) -> ExecutionRecord:
        return LocalRunner(settings, load(copy.deepcopy(raw))).run(overrides)

    return _run
