"""The SageMaker pipeline definitions — built once, with the SageMaker Python SDK 3.x, for AWS and local.

`build_training_pipeline()` is the one function that defines the churn training pipeline; the same JSON
is upserted to SageMaker (`lakeml pipeline upsert`) and executed by the local runner
(`lakeml pipeline run --local`). `build_batch_pipeline()` defines the small batch-scoring pipeline.

    IngestFeatures -> Prepare -> Tune -> Evaluate -> CheckGates -+-> Register -> DeployStaging
    (Processing)     (Proc.)    (HPO)   (Proc. +     (Condition)  |   (RegisterModel) (Lambda)
                                        PropertyFile)             +-> GateFailed (Fail, says why)

Every job runs the one lakeml image: processing steps name their module
(`python -m ml_pipelines.steps.<name>`), training jobs use the image's `train` command — so building the
definition uploads no code and contacts nothing (quirks in `ml_pipelines.sagemaker_session`).
The registration gates are constants in `ml_pipelines.gates`, not parameters: a run cannot lower them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ml_pipelines import gates
from ml_pipelines.sagemaker_session import DEFAULT_REGION, offline, pipeline_session, prepare_offline_env
from ml_pipelines.steps.ingest_features import DEFAULT_FEATURE_GROUP
from ml_pipelines.steps.train import METRIC_DEFINITIONS

if TYPE_CHECKING:
    from lakeml.core.settings import Settings

TRAINING_PIPELINE = "lakeml-churn-training"
BATCH_PIPELINE = "lakeml-churn-batch-scoring"
DEFAULT_MODEL_PACKAGE_GROUP = "lakeml-churn"
DEFAULT_LAKE_BUCKET = "lakeml-lake"  # what the local runner maps to the local lake folder
PLACEHOLDER_ACCOUNT = "000000000000"
STAGING_ENDPOINT = "lakeml-churn-staging"
PROCESSING = "/opt/ml/processing"
OBJECTIVE = "validation:auc"
# Property paths of evaluation.json read by the ConditionStep and the FailStep message.
EVALUATION_PATHS = {
    "auc": "metrics.auc.value",
    "required_vs_champion": "gates.beats_champion.threshold",
    "champion_auc": "gates.beats_champion.champion_auc",
    "summary": "gates.summary",
    "data_snapshot": "lineage.data_snapshot",
    "git_sha": "lineage.git_sha",
}


@dataclass(frozen=True)
class Target:
    """Where the pipeline runs: the AWS names baked into the definition (not parameters, because the SDK
    needs real strings for them). Defaults are placeholders that the local runner maps; on AWS they come
    from the environment set by infra (`LAKEML_AWS__SAGEMAKER_ROLE_ARN`, `LAKEML_AWS__IMAGE_URI`, …)."""

    region: str = DEFAULT_REGION
    account: str = PLACEHOLDER_ACCOUNT
    bucket: str = DEFAULT_LAKE_BUCKET
    role_arn: str = ""
    image_uri: str = ""
    deploy_function_arn: str = ""

    def __post_init__(self) -> None:
        defaults = {
            "role_arn": f"arn:aws:iam::{self.account}:role/lakeml-sagemaker-execution",
            "image_uri": f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/lakeml:latest",
            "deploy_function_arn": f"arn:aws:lambda:{self.region}:{self.account}:function:lakeml-deploy-staging",
        }
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)

    @classmethod
    def from_settings(cls, settings: Settings) -> Target:
        aws = settings.aws
        return cls(
            region=aws.region,
            account=aws.account_id or PLACEHOLDER_ACCOUNT,
            bucket=aws.lake_bucket or DEFAULT_LAKE_BUCKET,
            role_arn=aws.sagemaker_role_arn or "",
            image_uri=aws.image_uri or "",
            deploy_function_arn=aws.deploy_function_arn or "",
        )

    def placeholders(self) -> list[str]:
        """Environment variables still at their placeholder (fine locally; unusable on AWS)."""
        marker = f":{PLACEHOLDER_ACCOUNT}:"
        checks = {
            "LAKEML_AWS__SAGEMAKER_ROLE_ARN": marker in self.role_arn,
            "LAKEML_AWS__IMAGE_URI": self.image_uri.startswith(f"{PLACEHOLDER_ACCOUNT}."),
            "LAKEML_AWS__DEPLOY_FUNCTION_ARN": marker in self.deploy_function_arn,
        }
        return [name for name, is_placeholder in checks.items() if is_placeholder]

    def uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", *parts])


def _processing_step(
    session: Any,
    target: Target,
    *,
    name: str,
    module: str,
    instance_type: Any,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    arguments: list[Any],
    property_files: list[Any] | None = None,
    depends_on: list[Any] | None = None,
) -> Any:
    """A processing step running `python -m <module>` in the image with inputs/outputs under /opt/ml."""
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.mlops.workflow.steps import ProcessingStep

    processor = Processor(
        role=target.role_arn,
        image_uri=target.image_uri,
        instance_count=1,
        instance_type=instance_type,
        entrypoint=["python", "-m", module],
        sagemaker_session=session,
        base_job_name=f"lakeml-{name.lower()}",
        max_runtime_in_seconds=3600,
        env={"LAKEML_AWS__REGION": target.region, "LAKEML_AWS__LAKE_BUCKET": target.bucket},
    )
    step_args = processor.run(
        inputs=[
            ProcessingInput(
                input_name=key,
                s3_input=ProcessingS3Input(
                    s3_uri=uri,
                    local_path=f"{PROCESSING}/input/{key}",
                    s3_data_type="S3Prefix",
                    s3_input_mode="File",
                ),
            )
            for key, uri in inputs.items()
        ],
        outputs=[
            ProcessingOutput(
                output_name=key,
                s3_output=ProcessingS3Output(
                    s3_uri=uri, local_path=f"{PROCESSING}/{key}", s3_upload_mode="EndOfJob"
                ),
            )
            for key, uri in outputs.items()
        ],
        arguments=arguments,
    )
    return ProcessingStep(
        name=name, step_args=step_args, property_files=property_files, depends_on=depends_on
    )


def _execution_uri(target: Target, step: str, output: str) -> Any:
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return Join(
        on="/",
        values=[
            target.uri("ml", "churn", "executions"),
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            step,
            output,
        ],
    )


def build_training_pipeline(target: Target | None = None) -> Any:
    """The churn training pipeline (a `sagemaker.mlops.workflow.pipeline.Pipeline`). Call its
    `definition()` inside `sagemaker_session.offline()` — or use `definition()` below, which does."""
    target = target or Target()
    prepare_offline_env(target.region)
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.parameter import ContinuousParameter, IntegerParameter
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig, StoppingCondition
    from sagemaker.train.tuner import HyperparameterTuner

    session = pipeline_session(target.region, target.bucket)
    input_data = ParameterString("InputDataUri", default_value=target.uri("gold"))
    processing_instance = ParameterString("ProcessingInstanceType", default_value="ml.m5.xlarge")
    training_instance = ParameterString("TrainingInstanceType", default_value="ml.m5.xlarge")
    max_jobs = ParameterInteger("MaxTuningJobs", default_value=10)
    max_parallel = ParameterInteger("MaxParallelTuningJobs", default_value=2)
    group = ParameterString("ModelPackageGroup", default_value=DEFAULT_MODEL_PACKAGE_GROUP)
    feature_group = ParameterString("FeatureGroupName", default_value=DEFAULT_FEATURE_GROUP)
    dbt_invocation = ParameterString("DbtInvocationId", default_value="unknown")

    ingest = _processing_step(
        session,
        target,
        name="IngestFeatures",
        module="ml_pipelines.steps.ingest_features",
        instance_type=processing_instance,
        inputs={"customer_features": Join(on="/", values=[input_data, "customer_features"])},
        outputs={"report": _execution_uri(target, "ingest", "report")},
        arguments=[
            "--input",
            f"{PROCESSING}/input/customer_features",
            "--output",
            f"{PROCESSING}/report",
            "--feature-group",
            feature_group,
        ],
    )
    prepare = _processing_step(
        session,
        target,
        name="Prepare",
        module="ml_pipelines.steps.prepare",
        instance_type=processing_instance,
        inputs={"training_set": Join(on="/", values=[input_data, "churn_training_set"])},
        outputs={
            name: _execution_uri(target, "prepare", name)
            for name in ("train", "validation", "test", "report")
        },
        arguments=[
            "--input",
            f"{PROCESSING}/input/training_set",
            "--train",
            f"{PROCESSING}/train",
            "--validation",
            f"{PROCESSING}/validation",
            "--test",
            f"{PROCESSING}/test",
            "--report",
            f"{PROCESSING}/report",
        ],
        depends_on=[ingest],  # the feature group is current before a model is trained on the same data
    )

    def split_uri(name: str) -> Any:
        return prepare.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    tuning_prefix = "ml/churn/tuning"
    trainer = ModelTrainer(
        training_image=target.image_uri,
        role=target.role_arn,
        sagemaker_session=session,
        base_job_name="lakeml-train",
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=3600),
        output_data_config=OutputDataConfig(s3_output_path=target.uri(tuning_prefix)),
        hyperparameters={"num_round": 500, "early_stopping_rounds": 30, "seed": 7},
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name=OBJECTIVE,
        objective_type="Maximize",
        strategy="Bayesian",
        metric_definitions=METRIC_DEFINITIONS,
        hyperparameter_ranges={
            "eta": ContinuousParameter(0.02, 0.3, scaling_type="Logarithmic"),
            "max_depth": IntegerParameter(3, 8),
            "min_child_weight": ContinuousParameter(1.0, 20.0, scaling_type="Logarithmic"),
            "subsample": ContinuousParameter(0.6, 1.0),
            "colsample_bytree": ContinuousParameter(0.5, 1.0),
            "lambda": ContinuousParameter(0.1, 10.0, scaling_type="Logarithmic"),
            "alpha": ContinuousParameter(0.001, 5.0, scaling_type="Logarithmic"),
        },
        max_jobs=10,
        max_parallel_jobs=2,  # replaced by the budget parameters below
        early_stopping_type="Auto",
        random_seed=7,
        base_tuning_job_name="lakeml-churn",
    )
    tune_args = tuner.tune(
        inputs=[
            InputData(channel_name="train", data_source=split_uri("train")),
            InputData(channel_name="validation", data_source=split_uri("validation")),
        ]
    )
    tune = _budgeted_tuning_step_class()(
        name="Tune",
        step_args=tune_args,
        max_jobs=max_jobs,
        max_parallel=max_parallel,
        instance_type=training_instance,
    )
    best_model = tune.get_top_model_s3_uri(top_k=0, s3_bucket=target.bucket, prefix=tuning_prefix)

    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    evaluate = _processing_step(
        session,
        target,
        name="Evaluate",
        module="ml_pipelines.steps.evaluate",
        instance_type=processing_instance,
        inputs={"model": best_model, "test": split_uri("test")},
        outputs={"evaluation": _execution_uri(target, "evaluate", "evaluation")},
        arguments=[
            "--model",
            f"{PROCESSING}/input/model",
            "--test",
            f"{PROCESSING}/input/test",
            "--output",
            f"{PROCESSING}/evaluation",
            "--model-package-group",
            group,
        ],
        property_files=[evaluation],
    )

    def from_evaluation(key: str) -> Any:
        return JsonGet(step_name=evaluate.name, property_file=evaluation, json_path=EVALUATION_PATHS[key])

    evaluation_uri = Join(
        on="/",
        values=[
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
            "evaluation.json",
        ],
    )
    register_args = ModelBuilder(
        image_uri=target.image_uri,
        s3_model_data_url=best_model,
        role_arn=target.role_arn,
        sagemaker_session=session,
    ).register(
        model_package_group_name=group,
        content_types=["text/csv", "application/json"],
        response_types=["application/json", "text/csv"],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        approval_status="PendingManualApproval",
        description="Churn model (XGBoost) from the lakeml training pipeline",
        model_metrics=ModelMetrics(
            model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri)
        ),
        customer_metadata_properties={
            "data_snapshot": from_evaluation("data_snapshot"),
            "git_sha": from_evaluation("git_sha"),
            "dbt_invocation_id": dbt_invocation,
        },
    )
    register = ModelStep(name="Register", step_args=register_args)
    deploy = LambdaStep(
        name="DeployStaging",
        lambda_func=Lambda(function_arn=target.deploy_function_arn, session=session),
        inputs={"model_package_arn": register.properties.ModelPackageArn, "endpoint_name": STAGING_ENDPOINT},
        outputs=[
            LambdaOutput(output_name=name, output_type=LambdaOutputTypeEnum.String)
            for name in ("status", "endpoint_name", "model_package_arn")
        ],
    )
    failed = FailStep(
        name="GateFailed",
        error_message=Join(
            on="",
            values=[
                "Model not registered: ",
                from_evaluation("summary"),
                ". Numbers: test AUC=",
                from_evaluation("auc"),
                f", floor={gates.AUC_FLOOR}, required vs champion=",
                from_evaluation("required_vs_champion"),
                f" (champion AUC + {gates.MIN_IMPROVEMENT}).",
            ],
        ),
    )
    check = ConditionStep(
        name="CheckGates",
        conditions=[
            ConditionGreaterThanOrEqualTo(left=from_evaluation("auc"), right=gates.AUC_FLOOR),
            ConditionGreaterThanOrEqualTo(
                left=from_evaluation("auc"), right=from_evaluation("required_vs_champion")
            ),
        ],
        if_steps=[register, deploy],
        else_steps=[failed],
    )
    return Pipeline(
        name=TRAINING_PIPELINE,
        parameters=[
            input_data,
            processing_instance,
            training_instance,
            max_jobs,
            max_parallel,
            group,
            feature_group,
            dbt_invocation,
        ],
        steps=[ingest, prepare, tune, evaluate, check],
        sagemaker_session=session,
    )


def _budgeted_tuning_step_class() -> type:
    """A TuningStep whose resource limits and instance type are pipeline parameters.

    SDK 3.x builds `ResourceLimits`/`ResourceConfig` as pydantic shapes that accept only literal values, yet
    the CreateHyperParameterTuningJob request inside a pipeline may reference parameters. So the request is
    built with literals and the parameter references are put in afterwards."""
    from sagemaker.mlops.workflow.steps import TuningStep

    class BudgetedTuningStep(TuningStep):
        def __init__(self, *, max_jobs: Any, max_parallel: Any, instance_type: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._budget = (max_jobs, max_parallel, instance_type)

        @property
        def arguments(self) -> Any:
            request = super().arguments
            max_jobs, max_parallel, instance_type = self._budget
            limits = request["HyperParameterTuningJobConfig"]["ResourceLimits"]
            limits["MaxNumberOfTrainingJobs"] = max_jobs
            limits["MaxParallelTrainingJobs"] = max_parallel
            request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = instance_type
            return request

    return BudgetedTuningStep


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
    output_uri = ParameterString("OutputUri", default_value=target.uri("predictions", "churn_scores"))

    champion = PropertyFile(name="Champion", output_name="champion", path="champion.json")
    inputs = _processing_step(
        session,
        target,
        name="BatchInputs",
        module="ml_pipelines.steps.batch_inputs",
        instance_type=processing_instance,
        inputs={"customer_features": input_data},
        outputs={
            "features": _execution_uri(target, "batch", "features"),
            "champion": _execution_uri(target, "batch", "champion"),
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


def definition(target: Target | None = None, *, batch: bool = False) -> dict[str, Any]:
    """The definition JSON as a dict (key order as the SDK writes it)."""
    with offline():  # the SDK evaluates step arguments lazily, inside `definition()`
        pipeline = build_batch_pipeline(target) if batch else build_training_pipeline(target)
        return dict(json.loads(pipeline.definition()))


def definition_for(settings: Settings, *, batch: bool = False) -> dict[str, Any]:
    """The definition for this configuration (what `lakeml pipeline definition|upsert|run` use)."""
    return definition(Target.from_settings(settings), batch=batch)


def render(document: dict[str, Any]) -> str:
    """Stable text of a definition: what the snapshot file holds and what is uploaded."""
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
