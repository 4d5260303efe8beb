"""The churn training pipeline — the one function that defines it, for AWS and for the local runner.

    IngestFeatures -> Prepare -> Tune -> Evaluate -> CheckGates -+-> Register -> DeployStaging
    (Processing)     (Proc.)    (HPO)   (Proc. +     (Condition)  |   (RegisterModel) (Lambda)
                                        PropertyFile)             +-> GateFailed (Fail, says why)

Processing steps run `python -m lakeml.jobs.<step>` in the one image, training jobs the image's `train`
command, so building the definition uploads no code. The registration gates are constants in
`ml_pipelines.gates`, not parameters: a run cannot lower them.
"""

from __future__ import annotations

from typing import Any

from ml_pipelines import gates
from ml_pipelines.feature_store.lineage import LATEST
from ml_pipelines.pipeline.parts import PROCESSING, budgeted_tuning_step_class, execution_uri, processing_step
from ml_pipelines.pipeline.target import (
    DEFAULT_MODEL_PACKAGE_GROUP,
    STAGING_ENDPOINT,
    TRAINING_PIPELINE,
    Target,
)
from ml_pipelines.sagemaker_session import pipeline_session, prepare_offline_env
from ml_pipelines.steps.ingest_features import DEFAULT_FEATURE_GROUP, NO_BACKFILL
from ml_pipelines.steps.train import METRIC_DEFINITIONS

OBJECTIVE = "validation:auc"
EVALUATE_STEP = "Evaluate"
EVALUATION_OUTPUT = ("evaluate", "evaluation", "evaluation.json")  # under <execution prefix>/<id>/
INGEST_OUTPUT = ("ingest", "report", "ingest.json")  # IngestFeatures' report (feature lineage)
SPLIT_OUTPUT = ("prepare", "report", "split.json")  # Prepare's report (the training snapshot)
# Property paths of evaluation.json read by the ConditionStep and the FailStep message.
EVALUATION_PATHS = {
    "auc": "metrics.auc.value",
    "required_vs_champion": "gates.beats_champion.threshold",
    "champion_auc": "gates.beats_champion.champion_auc",
    "summary": "gates.summary",
    "data_snapshot": "lineage.data_snapshot",
    "git_sha": "lineage.git_sha",
}
DBT_INVOCATION_PARAM = "DbtInvocationId"
FEATURE_BACKFILL_PARAM = "FeatureBackfill"
# Property path of ingest.json (IngestFeatures' report) the Register step copies into the version.
INGEST_PATHS = {"dbt_invocation_id": "lineage.dbt_invocation_id"}


def evaluation_uri(target: Target, execution_id: str) -> str:
    """Where the Evaluate step of execution `execution_id` (its PipelineExecutionId) wrote evaluation.json."""
    return output_uri(target, execution_id, EVALUATION_OUTPUT)


def output_uri(target: Target, execution_id: str, output: tuple[str, str, str]) -> str:
    """Where a step of execution `execution_id` wrote one of its files (`*_OUTPUT` above)."""
    return "/".join([target.execution_prefix(), execution_id, *output])


def build_training_pipeline(target: Target | None = None) -> Any:
    """The churn training pipeline (a `sagemaker.mlops.workflow.pipeline.Pipeline`). Call its
    `definition()` inside `sagemaker_session.offline()` — or use `ml_pipelines.pipeline.definition()`,
    which does."""
    target = target or Target()
    prepare_offline_env(target.region)
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.parameter import ContinuousParameter, IntegerParameter
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
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
    # `latest`: IngestFeatures reads runs/dbt/latest.json (ml_pipelines.feature_store.lineage)
    dbt_invocation = ParameterString(DBT_INVOCATION_PARAM, default_value=LATEST)
    # `none`: IngestFeatures writes only new snapshots; `all` or a date YYYY-MM-DD rewrites (backfills)
    feature_backfill = ParameterString(FEATURE_BACKFILL_PARAM, default_value=NO_BACKFILL)
    ingestion = PropertyFile(name="FeatureIngestion", output_name=INGEST_OUTPUT[1], path=INGEST_OUTPUT[2])

    ingest = processing_step(
        session,
        target,
        name="IngestFeatures",
        job="ingest_features",
        instance_type=processing_instance,
        inputs={"customer_features": Join(on="/", values=[input_data, "customer_features"])},
        outputs={"report": execution_uri(target, *INGEST_OUTPUT[:2])},
        arguments=[
            "--input",
            f"{PROCESSING}/input/customer_features",
            "--output",
            f"{PROCESSING}/report",
            "--feature-group",
            feature_group,
            "--dbt-invocation-id",
            dbt_invocation,
            "--backfill",
            feature_backfill,
        ],
        property_files=[ingestion],
    )
    prepare = processing_step(
        session,
        target,
        name="Prepare",
        job="prepare",
        instance_type=processing_instance,
        inputs={"training_set": Join(on="/", values=[input_data, "churn_training_set"])},
        outputs={
            name: execution_uri(target, SPLIT_OUTPUT[0], name)
            for name in ("train", "validation", "test", SPLIT_OUTPUT[1])
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
    tune = budgeted_tuning_step_class()(
        name="Tune",
        step_args=tune_args,
        max_jobs=max_jobs,
        max_parallel=max_parallel,
        instance_type=training_instance,
        target=target,
    )
    best_model = tune.get_top_model_s3_uri(top_k=0, s3_bucket=target.bucket, prefix=tuning_prefix)

    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    evaluate = processing_step(
        session,
        target,
        name=EVALUATE_STEP,
        job="evaluate",
        instance_type=processing_instance,
        inputs={"model": best_model, "test": split_uri("test")},
        outputs={"evaluation": execution_uri(target, *EVALUATION_OUTPUT[:2])},
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
            # what IngestFeatures resolved and recorded, not the parameter (which may say `latest`)
            "dbt_invocation_id": JsonGet(
                step_name=ingest.name, property_file=ingestion, json_path=INGEST_PATHS["dbt_invocation_id"]
            ),
            "pipeline_execution_id": ExecutionVariables.PIPELINE_EXECUTION_ID,
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
            feature_backfill,
        ],
        steps=[ingest, prepare, tune, evaluate, check],
        sagemaker_session=session,
    )
