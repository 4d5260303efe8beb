"""RegisterModel, Model (CreateModel), Transform and Lambda steps: no job process, local services instead.

RegisterModel goes to the model registry port the runner was given (the same port `lakeml models` uses),
CreateModel writes the model's definition under `<home>/pipelines/models/`, Transform scores through the
serving code (`ml_pipelines.serving.batch`), and a Lambda step calls the local handler its function
name maps to (`RunnerConfig.lambda_handlers`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.definition import Step
from ml_pipelines.runner.errors import DefinitionError, StepFailed, UnsupportedFeature
from ml_pipelines.runner.executor import RunContext, StepCall, StepOutput
from ml_pipelines.runner.record import Registered

LOCAL_ARN = "arn:aws:sagemaker:local:000000000000"
BATCH_MODULE = "ml_pipelines.serving.batch"


class RegisterModelExecutor:
    control = False

    def __init__(self, context: RunContext) -> None:
        self.config = context.config
        self.registry = context.registry

    def check(self, step: Step, where: str) -> None:
        if self.registry is None:
            raise UnsupportedFeature(f"{where}: RegisterModel needs a model registry; this runner has none")

    def run(self, call: StepCall) -> StepOutput:
        arguments = call.arguments
        containers = arguments.get("InferenceSpecification", {}).get("Containers", [])
        if not containers:
            raise DefinitionError("RegisterModel needs InferenceSpecification.Containers")
        metrics: dict[str, Any] = {}
        for section in (arguments.get("ModelMetrics") or {}).values():
            for item in section.values():
                if isinstance(item, dict) and item.get("S3Uri"):
                    path = self.config.local_path(item["S3Uri"])
                    if path.is_dir():  # a processing output folder: SageMaker points at the file
                        candidates = sorted(path.glob("*.json"))
                        path = candidates[0] if candidates else path
                    metrics.update(json.loads(path.read_text()))
        group = arguments["ModelPackageGroupName"]
        assert self.registry is not None  # checked before the run
        self.registry.create_group(group, description=arguments.get("ModelPackageDescription", ""))
        version = self.registry.register(
            group,
            model_data_url=containers[0].get("ModelDataUrl", ""),
            image_uri=containers[0].get("Image", ""),
            metrics=metrics,
            metadata={str(k): str(v) for k, v in (arguments.get("CustomerMetadataProperties") or {}).items()},
            approval_status=arguments.get("ModelApprovalStatus", "PendingManualApproval"),
        )
        properties = {
            "ModelPackageArn": version.arn,
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version.version,
            "ModelApprovalStatus": version.status,
        }
        registered = Registered(group=group, version=version.version, status=version.status)
        return StepOutput(properties, registered=registered)


class ModelExecutor:
    """CreateModel: the model's definition is kept for Transform steps to find its ModelDataUrl."""

    control = False

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config

    def check(self, step: Step, where: str) -> None:
        """Fields are checked when the definition is loaded."""

    def run(self, call: StepCall) -> StepOutput:
        folder = self.config.pipelines_dir / "models"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{call.job_name}.json").write_text(json.dumps(call.arguments, indent=2, default=str))
        arn = f"{LOCAL_ARN}:model/{call.job_name.lower()}"
        return StepOutput({"ModelName": call.job_name, "ModelArn": arn})


class LambdaExecutor:
    control = False

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config

    def handler(self, arn: str, where: str) -> Callable[..., Any]:
        target = self.config.lambda_handler(arn)
        module, _, function = target.partition(":")
        try:
            handler: Callable[..., Any] = getattr(importlib.import_module(module), function)
            return handler
        except (ImportError, AttributeError) as exc:
            raise UnsupportedFeature(
                f"{where}: local handler {target} for {arn} cannot be loaded: {exc}"
            ) from None

    def check(self, step: Step, where: str) -> None:
        arn = step.raw["FunctionArn"]
        if isinstance(arn, str):  # a reference is resolved, and its handler found, when the step runs
            self.handler(arn, where)

    def run(self, call: StepCall) -> StepOutput:
        response = self.handler(call.function_arn, call.where)(call.arguments, None)
        outputs = {}
        for spec in call.step.raw.get("OutputParameters", []):
            name = spec["OutputName"]
            if not isinstance(response, dict) or name not in response:
                raise StepFailed(call.step.name, f"Lambda response has no output parameter {name!r}")
            outputs[name] = response[name]
        return StepOutput({"OutputParameters": outputs})


class TransformExecutor:
    """Batch transform through the serving code, with SageMaker's DataProcessing filters."""

    control = False

    def __init__(self, context: RunContext) -> None:
        self.context = context

    def module(self, where: str) -> Any:
        try:
            return importlib.import_module(BATCH_MODULE)
        except ImportError:
            raise UnsupportedFeature(
                f"{where}: Transform needs {BATCH_MODULE}, which this installation does not have"
            ) from None

    def check(self, step: Step, where: str) -> None:
        self.module(where).check_data_processing(step.arguments.get("DataProcessing") or {}, where)

    def run(self, call: StepCall) -> StepOutput:
        arguments = call.arguments
        output = arguments["TransformOutput"]["S3OutputPath"]
        self.module(call.where).transform(
            self.context.settings,
            self.context.config,
            model_name=arguments["ModelName"],
            input_uri=arguments["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"],
            output_uri=output,
            content_type=arguments["TransformInput"].get("ContentType", "text/csv"),
            data_processing=arguments.get("DataProcessing") or {},
        )
        return StepOutput(
            {
                "TransformJobName": call.job_name,
                "TransformJobStatus": "Completed",
                "TransformOutput": {"S3OutputPath": output},
                "TransformJobArn": f"{LOCAL_ARN}:transform-job/{call.job_name.lower()}",
            }
        )
