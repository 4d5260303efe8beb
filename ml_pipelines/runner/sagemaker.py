"""AWS adapter of the pipeline runner port: SageMaker Pipelines, through boto3.

`upsert` is CreatePipeline or UpdatePipeline with the definition JSON and the execution role; `start` is
StartPipelineExecution and returns the execution ARN; `describe` reads DescribePipelineExecution and
ListPipelineExecutionSteps (each step's status, failure reason, a FailStep's message, the model package a
RegisterModel step created); `executions` is ListPipelineExecutions (newest first, page by page; every
pipeline's, from ListPipelines, when none is named); `wait` polls `describe` until the execution ends or the bound passes — the
execution itself goes on in SageMaker either way. Nothing here runs a step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from lakeml.core.aws import error_code
from lakeml.core.errors import ConfigError, LakemlError
from ml_pipelines.runner.port import (
    TERMINAL,
    ExecutionStatus,
    ExecutionSummary,
    PipelineNotFound,
    RegisteredModel,
    StepCallback,
    StepStatus,
    UpsertResult,
)

PAGE_SIZE = 100  # ListPipelineExecutions' and ListPipelines' largest MaxResults
POLL_SECONDS = 30.0
DEFAULT_TIMEOUT_S = 6 * 3600.0
NOT_FOUND = ("ResourceNotFound", "ValidationException")  # SageMaker / its emulators for a missing pipeline
# The metadata key a step reports in ListPipelineExecutionSteps -> the definition's step type.
STEP_TYPES = {
    "ProcessingJob": "Processing",
    "TrainingJob": "Training",
    "TuningJob": "Tuning",
    "TransformJob": "Transform",
    "Model": "Model",
    "RegisterModel": "RegisterModel",
    "Condition": "Condition",
    "Fail": "Fail",
    "Lambda": "Lambda",
    "Callback": "Callback",
    "ClarifyCheck": "ClarifyCheck",
    "QualityCheck": "QualityCheck",
    "EMR": "EMR",
    "AutoMLJob": "AutoML",
    "Endpoint": "Endpoint",
    "EndpointConfig": "EndpointConfig",
}


class SageMakerPipelineRunner:
    remote = True

    def __init__(
        self,
        sagemaker: Any,
        role_arn: str,
        *,
        poll_seconds: float = POLL_SECONDS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sagemaker = sagemaker
        self.role_arn = role_arn
        self.poll_seconds = poll_seconds
        self.timeout_s = timeout_s
        self.sleep = sleep

    def upsert(self, name: str, definition: dict[str, Any], *, description: str = "") -> UpsertResult:
        if not self.role_arn:
            raise ConfigError(
                "aws.sagemaker_role_arn is not set: SageMaker runs the pipeline as that role; set "
                "LAKEML_AWS__SAGEMAKER_ROLE_ARN (`terraform output lakeml` prints it)"
            )
        body = json.dumps(definition)
        fields = {
            "PipelineName": name,
            "PipelineDefinition": body,
            "RoleArn": self.role_arn,
            "PipelineDescription": description,
        }
        try:
            self.sagemaker.describe_pipeline(PipelineName=name)
            exists = True
        except Exception as exc:
            if error_code(exc) not in NOT_FOUND:  # SageMaker answers ValidationException for some names
                raise LakemlError(f"cannot look up pipeline {name}: {exc}") from None
            exists = False
        try:
            response = (
                self.sagemaker.update_pipeline(**fields)
                if exists
                else self.sagemaker.create_pipeline(**fields)
            )
        except Exception as exc:
            verb = "update" if exists else "create"
            raise LakemlError(f"{verb} of pipeline {name} failed: {error_code(exc) or exc}: {exc}") from None
        return UpsertResult(
            pipeline=name,
            arn=response["PipelineArn"],
            action="updated" if exists else "created",
            definition_bytes=len(body),
        )

    def start(
        self, name: str, parameters: Mapping[str, str] | None = None, *, on_step: StepCallback | None = None
    ) -> str:
        request: dict[str, Any] = {"PipelineName": name}
        if parameters:
            request["PipelineParameters"] = [{"Name": k, "Value": str(v)} for k, v in parameters.items()]
        try:
            response = self.sagemaker.start_pipeline_execution(**request)
        except Exception as exc:
            if _missing(exc):
                raise PipelineNotFound(name, "in SageMaker") from None
            raise LakemlError(f"cannot start pipeline {name}: {error_code(exc) or exc}: {exc}") from None
        return str(response["PipelineExecutionArn"])

    def describe(self, execution: str) -> ExecutionStatus:
        try:
            described = self.sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution)
            parameters = self.sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution)
        except Exception as exc:
            raise LakemlError(f"cannot describe pipeline execution {execution}: {exc}") from None
        raw_steps = self._steps(execution)
        steps = [_step(s) for s in raw_steps]
        fail_step = next((s for s in raw_steps if "Fail" in s.get("Metadata", {})), None)
        failed = next((s for s in steps if s.status == "Failed"), None)
        reason = described.get("FailureReason") or None
        if fail_step is not None:
            reason = fail_step["Metadata"]["Fail"].get("ErrorMessage") or reason
        elif failed is not None:
            reason = failed.failure_reason or reason
        status = described["PipelineExecutionStatus"]
        return ExecutionStatus(
            execution_id=execution,
            pipeline=execution.split(":pipeline/", 1)[-1].split("/", 1)[0],
            status=status,
            parameters={p["Name"]: p["Value"] for p in parameters.get("PipelineParameters") or []},
            steps=steps,
            failure_reason=reason if status != "Succeeded" else None,
            failed_step=failed.name if failed else None,
            failed_by_fail_step=fail_step is not None and status == "Failed",
            registered=self._registered(raw_steps),
            logs_hint=(
                f"aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {execution}"
                if failed
                else None
            ),
        )

    def executions(self, pipeline: str | None = None, *, limit: int | None = None) -> list[ExecutionSummary]:
        names = [pipeline] if pipeline is not None else self._pipelines()
        found = [e for name in names for e in self._executions(name, limit)]
        found.sort(key=lambda e: e.started_at or "", reverse=True)
        return found[:limit]

    def _pipelines(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            try:
                page = self.sagemaker.list_pipelines(
                    MaxResults=PAGE_SIZE, **({"NextToken": token} if token else {})
                )
            except Exception as exc:
                raise LakemlError(
                    f"cannot list SageMaker pipelines: {error_code(exc) or exc}: {exc}"
                ) from None
            names.extend(p["PipelineName"] for p in page.get("PipelineSummaries", []))
            token = page.get("NextToken")
            if not token:
                return names

    def _executions(self, name: str, limit: int | None) -> list[ExecutionSummary]:
        """The newest `limit` executions of one pipeline, following NextToken until there are enough."""
        found: list[ExecutionSummary] = []
        token = None
        while limit is None or len(found) < limit:
            request: dict[str, Any] = {
                "PipelineName": name,
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": min(PAGE_SIZE, limit or PAGE_SIZE),
            }
            try:
                page = self.sagemaker.list_pipeline_executions(
                    **request, **({"NextToken": token} if token else {})
                )
            except Exception as exc:
                if _missing(exc):
                    raise PipelineNotFound(name, "in SageMaker") from None
                raise LakemlError(f"cannot list executions of pipeline {name}: {exc}") from None
            found.extend(_summary(name, raw) for raw in page.get("PipelineExecutionSummaries", []))
            token = page.get("NextToken")
            if not token:
                break
        return found

    def _steps(self, execution: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.sagemaker.list_pipeline_execution_steps(
                PipelineExecutionArn=execution,
                SortOrder="Ascending",
                **({"NextToken": token} if token else {}),
            )
            found.extend(page.get("PipelineExecutionSteps", []))
            token = page.get("NextToken")
            if not token:
                return found

    def _registered(self, steps: list[dict[str, Any]]) -> RegisteredModel | None:
        arn = next(
            (
                s["Metadata"]["RegisterModel"]["Arn"]
                for s in steps
                if s.get("StepStatus") == "Succeeded" and "RegisterModel" in s.get("Metadata", {})
            ),
            None,
        )
        if arn is None:
            return None
        package = self.sagemaker.describe_model_package(ModelPackageName=arn)
        group, _, version = arn.split(":model-package/", 1)[-1].partition("/")
        return RegisteredModel(
            group=package.get("ModelPackageGroupName", group),
            version=int(package.get("ModelPackageVersion", version)),
            status=package["ModelApprovalStatus"],
        )

    def wait(
        self, execution: str, *, timeout_s: float | None = None, on_step: StepCallback | None = None
    ) -> ExecutionStatus:
        bound = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + bound
        seen: dict[str, str] = {}
        while True:
            status = self.describe(execution)
            for step in status.steps:
                if seen.get(step.name) != step.status:
                    seen[step.name] = step.status
                    if on_step:
                        on_step(step)
            if status.terminal:
                return status
            if time.monotonic() > deadline:
                raise LakemlError(
                    f"pipeline execution {execution} still {status.status} after {bound:.0f} s; it goes on in "
                    "SageMaker (follow it in Studio or with `aws sagemaker describe-pipeline-execution "
                    f"--pipeline-execution-arn {execution}`)"
                )
            self.sleep(self.poll_seconds)


def _missing(exc: Exception) -> bool:
    """A missing pipeline: SageMaker says ResourceNotFound, some emulators ValidationException."""
    code = error_code(exc)
    return code == "ResourceNotFound" or (
        code == "ValidationException" and "could not find" in str(exc).lower()
    )


def _summary(pipeline: str, raw: Mapping[str, Any]) -> ExecutionSummary:
    status = raw["PipelineExecutionStatus"]
    reason = raw.get("PipelineExecutionFailureReason")
    return ExecutionSummary(
        execution_id=raw["PipelineExecutionArn"],
        pipeline=pipeline,
        status=status,
        started_at=_iso(raw.get("StartTime")),
        # a Succeeded or Executing execution has no failure (some emulators answer the text "None")
        failure_reason=reason if reason and status in TERMINAL - {"Succeeded"} else None,
    )


def _iso(moment: datetime | None) -> str | None:
    """A SageMaker timestamp as the local records write theirs (ISO 8601, UTC, milliseconds)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds") if moment else None


def _step(raw: Mapping[str, Any]) -> StepStatus:
    metadata = raw.get("Metadata") or {}
    kind = next((STEP_TYPES[k] for k in metadata if k in STEP_TYPES), None)
    started, ended = raw.get("StartTime"), raw.get("EndTime")
    return StepStatus(
        name=raw["StepName"],
        type=kind,
        status=raw.get("StepStatus", "Executing"),
        seconds=round((ended - started).total_seconds(), 3) if started and ended else None,
        failure_reason=raw.get("FailureReason") or None,
        cache_hit=bool(raw.get("CacheHitResult")),
    )
