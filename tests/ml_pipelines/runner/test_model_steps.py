"""RegisterModel, CreateModel, Transform and Lambda steps of hand-written definitions, run locally."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from lakeml.wiring import adapters
from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.definition import load
from ml_pipelines.runner.engine import LocalRunner
from ml_pipelines.runner.errors import UnsupportedFeature
from tests.ml_pipelines.runner.conftest import definition, processing
from tests.ml_pipelines.serving.conftest import FEATURES, train_model

pytestmark = pytest.mark.xdist_group("runner")
CALLS: list[dict] = []


def lambda_handler(event, context):
    CALLS.append(event)
    return {"status": "deployed", "endpoint_name": event["endpoint_name"]}


@pytest.fixture
def model_uri(settings):
    train_model(settings.lake_dir / "models" / "m1")
    return "s3://lakeml-lake/models/m1"


def register_step(model_uri: str) -> dict:
    return {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": "lakeml-churn",
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [{"Image": "lakeml:local", "ModelDataUrl": model_uri}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": {
                            "Std:Join": {
                                "On": "/",
                                "Values": [
                                    {
                                        "Get": "Steps.Prep.ProcessingOutputConfig.Outputs['report'].S3Output.S3Uri"
                                    },
                                    "evaluation.json",
                                ],
                            }
                        },
                    }
                }
            },
            "CustomerMetadataProperties": {"git_sha": "abc123"},
        },
    }


def test_register_model_goes_to_the_local_registry_as_pending(settings, lake_input, model_uri):
    registry = adapters(settings).registry
    raw = definition(processing("Prep", "--score", "0.87"), register_step(model_uri))
    record = LocalRunner(settings, load(raw), registry=registry).run()
    assert record.status == "Succeeded", record.failure_reason
    assert record.registered is not None
    assert record.registered.model_dump() == {
        "group": "lakeml-churn",
        "version": 1,
        "status": "PendingManualApproval",
    }
    version = registry.get("lakeml-churn", 1)
    assert version.model_data_url == model_uri and version.metadata["git_sha"] == "abc123"


def test_lambda_step_calls_the_mapped_local_handler_and_exposes_outputs(settings, lake_input):
    config = RunnerConfig.from_settings(settings)
    config.lambda_handlers = {"lakeml-deploy": "tests.ml_pipelines.runner.test_model_steps:lambda_handler"}
    step = {
        "Name": "Deploy",
        "Type": "Lambda",
        "FunctionArn": "arn:aws:lambda:eu-west-1:000000000000:function:lakeml-deploy-staging",
        "OutputParameters": [{"OutputName": "status", "OutputType": "String"}],
        "Arguments": {
            "endpoint_name": "lakeml-churn-staging",
            "execution": {"Get": "Execution.PipelineExecutionId"},
        },
    }
    CALLS.clear()
    record = LocalRunner(settings, load(definition(step)), config=config).run()
    assert record.status == "Succeeded", record.failure_reason
    assert [{"endpoint_name": "lakeml-churn-staging", "execution": record.execution_id}] == CALLS
    assert record.steps[0].properties == {"OutputParameters": {"status": "deployed"}}


def transform_definition(model_uri: str, data_processing: dict) -> dict:
    create = {
        "Name": "CreateModel",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": "arn:aws:iam::000000000000:role/x",
            "PrimaryContainer": {"Image": "lakeml:local", "ModelDataUrl": model_uri},
        },
    }
    score = {
        "Name": "Score",
        "Type": "Transform",
        "Arguments": {
            "ModelName": {"Get": "Steps.CreateModel.ModelName"},
            "TransformInput": {
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://lakeml-lake/batch/in"}
                },
                "ContentType": "text/csv",
                "SplitType": "Line",
            },
            "TransformOutput": {
                "S3OutputPath": "s3://lakeml-lake/batch/out",
                "Accept": "text/csv",
                "AssembleWith": "Line",
            },
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "BatchStrategy": "MultiRecord",
            "DataProcessing": data_processing,
        },
    }
    return definition(create, score)


def test_transform_scores_lines_with_sagemaker_filters_and_join(settings, model_uri):
    from ml_pipelines.serving.model import load_model

    rows = np.random.default_rng(3).normal(size=(7, len(FEATURES))).astype(np.float32)
    folder = settings.lake_dir / "batch" / "in"
    folder.mkdir(parents=True)
    (folder / "features.csv").write_text(
        "".join(f"{1000 + i}," + ",".join(repr(float(v)) for v in r) + "\n" for i, r in enumerate(rows))
    )
    raw = transform_definition(
        model_uri, {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}
    )
    record = LocalRunner(settings, load(copy.deepcopy(raw))).run()
    assert record.status == "Succeeded", record.failure_reason
    lines = (settings.lake_dir / "batch" / "out" / "features.csv.out").read_text().split()
    expected = load_model(settings.lake_dir / "models" / "m1").predict(rows)
    assert [line.split(",")[0] for line in lines] == [str(1000 + i) for i in range(7)]
    assert np.allclose([float(line.split(",")[1]) for line in lines], expected, atol=1e-7)


def test_unsupported_data_processing_filter_fails_up_front(settings, model_uri):
    raw = transform_definition(model_uri, {"InputFilter": "$.features"})
    with pytest.raises(UnsupportedFeature, match=r"DataProcessing.InputFilter '\$.features'"):
        LocalRunner(settings, load(raw))
