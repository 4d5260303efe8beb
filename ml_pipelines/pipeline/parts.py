"""Building blocks of the definitions: processing steps that run the image's job commands, per-execution
output URIs, and a tuning step whose budget is a pipeline parameter."""

from __future__ import annotations

from typing import Any

from ml_pipelines.pipeline.target import JOBS, Target

PROCESSING = "/opt/ml/processing"


def processing_step(
    session: Any,
    target: Target,
    *,
    name: str,
    job: str,
    instance_type: Any,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    arguments: list[Any],
    property_files: list[Any] | None = None,
    depends_on: list[Any] | None = None,
) -> Any:
    """A processing step running `python -m lakeml.jobs.<job>` in the image, inputs/outputs under /opt/ml."""
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.mlops.workflow.steps import ProcessingStep

    processor = Processor(
        role=target.role_arn,
        image_uri=target.image_uri,
        instance_count=1,
        instance_type=instance_type,
        entrypoint=["python", "-m", f"{JOBS}.{job}"],
        sagemaker_session=session,
        base_job_name=f"lakeml-{name.lower()}",
        max_runtime_in_seconds=3600,
        env={"LAKEML_AWS__REGION": target.region, "LAKEML_AWS__LAKE_BUCKET": target.bucket},
        volume_kms_key=target.kms_key,
        output_kms_key=target.kms_key,
        network_config=target.network(),
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


def execution_uri(target: Target, step: str, output: str) -> Any:
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return Join(
        on="/",
        values=[
            target.execution_prefix(),
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            step,
            output,
        ],
    )


def budgeted_tuning_step_class() -> type:
    """A TuningStep whose resource limits and instance type are pipeline parameters, and whose training
    jobs get the target's hardening (volume and output key, private subnets).

    SDK 3.x builds `ResourceLimits`/`ResourceConfig` as pydantic shapes that accept only literal values, yet
    the CreateHyperParameterTuningJob request inside a pipeline may reference parameters. So the request is
    built with literals and the parameter references are put in afterwards. The tuner also drops the
    trainer's volume key, so the hardening is put in here too, for every training job alike."""
    from sagemaker.mlops.workflow.steps import TuningStep

    class BudgetedTuningStep(TuningStep):
        def __init__(
            self,
            *,
            max_jobs: Any,
            max_parallel: Any,
            instance_type: Any,
            target: Target | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self._budget = (max_jobs, max_parallel, instance_type)
            self._target = target or Target()

        @property
        def arguments(self) -> Any:
            request = super().arguments
            max_jobs, max_parallel, instance_type = self._budget
            limits = request["HyperParameterTuningJobConfig"]["ResourceLimits"]
            limits["MaxNumberOfTrainingJobs"] = max_jobs
            limits["MaxParallelTrainingJobs"] = max_parallel
            request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = instance_type
            harden_training_job(request["TrainingJobDefinition"], self._target)
            return request

    return BudgetedTuningStep


def harden_training_job(job: dict[str, Any], target: Target) -> None:
    """A training job definition (CreateTrainingJob / TrainingJobDefinition shape) with the target's CMK on
    its volume and output, and its private subnets; unchanged for a target without them (local)."""
    if target.kms_key_arn:
        job["ResourceConfig"]["VolumeKmsKeyId"] = target.kms_key_arn
        job["OutputDataConfig"]["KmsKeyId"] = target.kms_key_arn
    if target.subnet_ids:
        job["VpcConfig"] = {
            "SecurityGroupIds": list(target.security_group_ids),
            "Subnets": list(target.subnet_ids),
        }
