"""The batch-scoring pipeline: latest customer features x the Approved champion -> churn scores.

BatchInputs (Processing: features.csv + champion.json) -> CreateModel (ModelStep) -> Score (Transform)
"""

from __future__ import annotations

from typing import Any

from ml_pipelines.pipeline.parts import PROCESSING, execution_uri, processing_step
from ml_pipelines.pipeline.target import BATCH_PIPELINE, DEFAULT_MODEL_PACKAGE_GROUP, Target
from ml_pipelines.sagemaker_session import pipeline_session, prepare_offline_env

SCORES = ("predictions", "churn_scores")  # under the lake: the default OutputUri


def scores_uri(target: Target) -> str:
    return target.uri(*SCORES)


def build_batch_pipeline(target: Target | None = None) -> Any:
    """Batch scoring: latest customer_features x latest Approved model -> `<lake>/predictions/churn_scores/`.

    BatchInputs (Processing: features.csv + champion.json) -> CreateModel (ModelStep) -> Score (Transform)
    """
    target = target or Target()
    prepare_offline_env(target.region)
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import TransformStep
    from sagemaker.serve.model_builder import ModelBuilder

    session = pipeline_session(target.region, target.bucket)
    input_data = ParameterString("InputDataUri", default_value=target.uri("gold", "customer_features"))
    processing_instance = ParameterString("ProcessingInstanceType", default_value="ml.m5.xlarge")
    transform_instance = ParameterString("TransformInstanceType", default_value="ml.m5.large")
    group = ParameterString("ModelPackageGroup", default_value=DEFAULT_MODEL_PACKAGE_GROUP)
    output_uri = ParameterString("OutputUri", default_value=scores_uri(target))

    champion = PropertyFile(name="Champion", output_name="champion", path="champion.json")
    inputs = processing_step(
        session,
        target,
        name="BatchInputs",
        job="batch_inputs",
        instance_type=processing_instance,
        inputs={"customer_features": input_data},
        outputs={
            "features": execution_uri(target, "batch", "features"),
            "champion": execution_uri(target, "batch", "champion"),
        },
        arguments=[
            "--input",
            f"{PROCESSING}/input/customer_features",
            "--features-output",
            f"{PROCESSING}/features",
            "--champion-output",
            f"{PROCESSING}/champion",
            "--model-package-group",
            group,
        ],
        property_files=[champion],
    )
    model_data = JsonGet(step_name=inputs.name, property_file=champion, json_path="model_data_url")
    create_args = ModelBuilder(
        image_uri=target.image_uri,
        s3_model_data_url=model_data,
        role_arn=target.role_arn,
        sagemaker_session=session,
        network=target.network(),
    ).build()
    create = ModelStep(name="CreateModel", step_args=create_args)
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_count=1,
        instance_type=transform_instance,
        output_path=output_uri,
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
        sagemaker_session=session,
        base_transform_job_name="lakeml-churn-scores",
        output_kms_key=target.kms_key,
        volume_kms_key=target.kms_key,
    )
    transform_args = transformer.transform(
        data=inputs.properties.ProcessingOutputConfig.Outputs["features"].S3Output.S3Uri,
        content_type="text/csv",
        split_type="Line",
        input_filter="$[1:]",
        join_source="Input",
        output_filter="$[0,-1]",  # customer_id,score
    )
    score = TransformStep(name="Score", step_args=transform_args)
    return Pipeline(
        name=BATCH_PIPELINE,
        parameters=[input_data, processing_instance, transform_instance, group, output_uri],
        steps=[inputs, create, score],
        sagemaker_session=session,
    )
