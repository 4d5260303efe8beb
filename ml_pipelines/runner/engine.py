"""The execution engine: preflight, then steps in dependency order with caching, retries and records.

Behaves like SageMaker Pipelines where it matters to a user: a failed step stops the execution (steps
already running finish), Condition picks a branch and steps of the other branch do not execute, a
FailStep ends the execution as Failed with its message, CacheConfig reuses a previous step's result when
its resolved arguments are identical, RetryPolicies retry matching failures with backoff.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lakeml.core.settings import Settings
from ml_pipelines.runner import tuning
from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.definition import Definition, Step, order
from ml_pipelines.runner.errors import DefinitionError, StepFailed, UnsupportedFeature
from ml_pipelines.runner.expressions import Resolver
from ml_pipelines.runner.jobs import JobError, run_processing, run_training
from ml_pipelines.runner.records import ExecutionStore, now

StepEvent = Callable[[str, dict[str, Any]], None]
RETRYABLE_LOCALLY = {
    "SageMaker.JOB_INTERNAL_ERROR",
    "Step.SERVICE_FAULT",
    "Step.THROTTLING",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
}


class FailStepReached(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _iso_duration(text: str) -> timedelta:
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text or "")
    if not match or not any(match.groups()):
        raise DefinitionError(
            f"CacheConfig ExpireAfter {text!r} is not an ISO-8601 duration like PT1H or P30D"
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class LocalRunner:
    def __init__(
        self,
        settings: Settings,
        definition: Definition,
        config: RunnerConfig | None = None,
        pipeline_name: str = "lakeml-churn-training",
    ) -> None:
        self.settings = settings
        self.definition = definition
        self.config = config or RunnerConfig.from_settings(settings)
        self.pipeline_name = pipeline_name
        self.store = ExecutionStore(self.config.pipelines_dir)
        self.preflight()

    # --- before anything runs -------------------------------------------------------------------
    def preflight(self) -> None:
        for step in self.definition.steps.values():
            where = f"step '{step.name}'"
            if step.type == "Tuning":
                tuning.check(step.arguments, where)
            if step.type == "Lambda":
                arn = step.raw["FunctionArn"]
                if isinstance(arn, str):
                    self._handler(arn, where)
            if step.type == "Transform":
                self._transformer(where)
                from ml_pipelines.serving.batch import check_data_processing

                check_data_processing(step.arguments.get("DataProcessing") or {}, where)
            if step.type == "Processing" and not step.arguments.get("AppSpecification", {}).get(
                "ContainerEntrypoint"
            ):
                raise UnsupportedFeature(
                    f"{where}: a processing job without ContainerEntrypoint cannot run locally"
                )
            cache = step.raw.get("CacheConfig") or {}
            if cache.get("Enabled"):
                _iso_duration(cache.get("ExpireAfter", "P30D"))

    def _handler(self, arn: str, where: str) -> Callable[..., Any]:
        target = self.config.lambda_handler(arn)
        module, _, function = target.partition(":")
        try:
            return getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError) as exc:
            raise UnsupportedFeature(
                f"{where}: local handler {target} for {arn} cannot be loaded: {exc}"
            ) from None

    def _transformer(self, where: str) -> Callable[..., Any]:
        try:
            return importlib.import_module("ml_pipelines.serving.batch").transform
        except (ImportError, AttributeError):
            raise UnsupportedFeature(
                f"{where}: Transform needs ml_pipelines.serving.batch.transform, "
                "which this installation does not have"
            ) from None

    # --- the run ---------------------------------------------------------------------------------
    def run(
        self, overrides: dict[str, str] | None = None, on_event: StepEvent | None = None
    ) -> dict[str, Any]:
        parameters = self.definition.resolve_parameters(overrides or {})
        execution_id = uuid.uuid4().hex[:12]
        started = datetime.now(UTC)
        execution = {
            "PipelineExecutionId": execution_id,
            "PipelineExecutionArn": f"arn:aws:sagemaker:local:000000000000:pipeline/{self.pipeline_name}/execution/{execution_id}",
            "PipelineName": self.pipeline_name,
            "PipelineArn": f"arn:aws:sagemaker:local:000000000000:pipeline/{self.pipeline_name}",
            "StartDateTime": started.isoformat(),
            "CurrentDateTime": started.isoformat(),
        }
        properties: dict[str, dict[str, Any]] = {}
        resolver = Resolver(parameters, execution, properties, self._property_file_of(properties))
        record: dict[str, Any] = {
            "execution_id": execution_id,
            "pipeline": self.pipeline_name,
            "status": "Executing",
            "started_at": now(),
            "ended_at": None,
            "parameters": parameters,
            "failure_reason": None,
            "registered": None,
            "steps": [],
            "graph": {n: sorted(p) for n, p in _graph(self.definition).items()},
            "types": {n: s.type for n, s in self.definition.steps.items()},
        }
        self.store.save(record)
        skipped: set[str] = set()
        for name in order(self.definition):
            step = self.definition.steps[name]
            if name in skipped or (step.branch_of and step.branch_of in skipped):
                skipped.add(name)
                continue
            entry: dict[str, Any] = {
                "name": name,
                "type": step.type,
                "status": "Executing",
                "started_at": now(),
                "ended_at": None,
                "seconds": None,
                "attempts": 0,
                "cache_hit": False,
            }
            record["steps"].append(entry)
            self.store.save(record)
            if on_event:
                on_event("started", entry)
            begun = time.monotonic()
            try:
                self._run_step(step, resolver, execution_id, entry, properties, skipped)
                entry["status"] = "Succeeded"
            except FailStepReached as exc:
                entry.update(status="Failed", failure_reason=exc.message)
                record.update(
                    status="Failed", failure_reason=exc.message, failed_step=name, failed_by_fail_step=True
                )
            except (StepFailed, DefinitionError) as exc:
                entry.update(status="Failed", failure_reason=str(exc))
                record.update(
                    status="Failed", failure_reason=str(exc), failed_step=name, failed_by_fail_step=False
                )
            finally:
                if name in properties:
                    entry["properties"] = properties[name]
                entry["ended_at"] = now()
                entry["seconds"] = round(time.monotonic() - begun, 3)
                execution["CurrentDateTime"] = datetime.now(UTC).isoformat()
                self.store.save(record)
                if on_event:
                    on_event("finished", entry)
            if record["status"] == "Failed":
                break
            if step.type == "RegisterModel":
                record["registered"] = entry.get("registered")
        if record["status"] == "Executing":
            record["status"] = "Succeeded"
        record["ended_at"] = now()
        record["not_executed"] = sorted(skipped)
        self.store.save(record)
        return record

    def _property_file_of(self, properties: dict[str, dict[str, Any]]) -> Callable[[str, str], Path]:
        def locate(step_name: str, file_name: str) -> Path:
            step = self.definition.steps[step_name]
            spec = next(p for p in step.raw.get("PropertyFiles", []) if p["PropertyFileName"] == file_name)
            output = properties[step_name]["ProcessingOutputConfig"]["Outputs"][spec["OutputName"]]
            return self.config.local_path(output["S3Output"]["S3Uri"]) / spec["FilePath"]

        return locate

    def _run_step(
        self,
        step: Step,
        resolver: Resolver,
        execution_id: str,
        entry: dict[str, Any],
        properties: dict[str, dict[str, Any]],
        skipped: set[str],
    ) -> None:
        where = f"step '{step.name}'"
        if step.type == "Condition":
            outcome = all(resolver.condition(c, where) for c in step.arguments.get("Conditions", []))
            properties[step.name] = {"Outcome": outcome}
            entry["outcome"] = outcome
            losing = step.arguments.get("ElseSteps" if outcome else "IfSteps", [])
            skipped.update(s["Name"] for s in losing)
            return
        if step.type == "Fail":
            message = resolver.resolve(step.arguments.get("ErrorMessage", ""), where)
            raise FailStepReached(str(message) or f"FailStep {step.name} reached")
        arguments = resolver.resolve(step.arguments, where)
        function_arn = resolver.resolve(step.raw.get("FunctionArn"), where)
        entry["inputs"] = arguments
        cache_key = self._cache_key(step, arguments, function_arn)
        cached = self._cache_get(step, cache_key)
        if cached is not None:
            properties[step.name] = cached["properties"]
            entry.update(
                cache_hit=True,
                cached_from=cached["execution_id"],
                metrics=cached.get("metrics", {}),
                registered=cached.get("registered"),
            )
            return
        job_dir = self.store.folder(execution_id) / "jobs" / step.name
        self._with_retries(
            step,
            entry,
            lambda: self._execute(step, arguments, function_arn, execution_id, job_dir, entry, properties),
        )
        self._cache_put(step, cache_key, execution_id, properties[step.name], entry)

    def _execute(
        self,
        step: Step,
        arguments: Any,
        function_arn: Any,
        execution_id: str,
        job_dir: Path,
        entry: dict[str, Any],
        properties: dict[str, dict[str, Any]],
    ) -> None:
        job_name = f"{step.name}-{execution_id}"[:63]
        entry["job_dir"] = str(job_dir)
        if job_dir.exists():  # a retry starts from a clean job folder, like a new SageMaker job
            shutil.rmtree(job_dir)
        if step.type == "Processing":
            result, props = run_processing(self.config, job_name, job_dir, arguments)
            entry.update(log=str(result.log), script_seconds=round(result.seconds, 3))
        elif step.type == "Training":
            result, props = run_training(self.config, job_name, job_dir, arguments)
            entry.update(
                log=str(result.log), script_seconds=round(result.seconds, 3), metrics=result.final_metrics()
            )
        elif step.type == "Tuning":
            props, jobs = tuning.run_tuning(self.config, job_name, job_dir, arguments)
            entry.update(
                jobs=[{k: v for k, v in j.items() if k not in ("Properties", "Interval")} for j in jobs],
                script_seconds=round(_covered([j["Interval"] for j in jobs if "Interval" in j]), 3),
                metrics={
                    "best_"
                    + props["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"][
                        "MetricName"
                    ]: props["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
                },
            )
        elif step.type == "RegisterModel":
            props = self._register(arguments, entry)
        elif step.type == "Model":
            props = self._create_model(job_name, arguments)
        elif step.type == "Lambda":
            props = self._invoke_lambda(step, function_arn, arguments)
        elif step.type == "Transform":
            props = self._transform(job_name, arguments)
        else:  # guarded by the definition check
            raise UnsupportedFeature(f"step '{step.name}': type {step.type} cannot run locally")
        properties[step.name] = props

    def _with_retries(self, step: Step, entry: dict[str, Any], action: Callable[[], None]) -> None:
        policies = step.raw.get("RetryPolicies", [])
        attempt = 0
        while True:
            attempt += 1
            entry["attempts"] = attempt
            try:
                action()
                return
            except JobError as exc:
                policy = next(
                    (
                        p
                        for p in policies
                        if exc.kind in p.get("ExceptionType", []) and exc.kind in RETRYABLE_LOCALLY
                    ),
                    None,
                )
                if policy is None or attempt >= int(policy.get("MaxAttempts", 1)):
                    raise StepFailed(step.name, f"{exc} [{exc.kind}; attempts: {attempt}]") from None
                delay = float(policy.get("IntervalSeconds", 1)) * float(policy.get("BackoffRate", 2.0)) ** (
                    attempt - 1
                )
                entry.setdefault("retries", []).append(
                    {"attempt": attempt, "reason": str(exc), "kind": exc.kind}
                )
                time.sleep(min(delay, 60.0))
            except (DefinitionError, StepFailed):
                raise
            except Exception as exc:  # a local executor bug or environment problem: fail the step, clearly
                raise StepFailed(step.name, f"{type(exc).__name__}: {exc}") from exc

    # --- cache -------------------------------------------------------------------------------------
    def _cache_key(self, step: Step, arguments: Any, function_arn: Any) -> str:
        body = json.dumps(
            {
                "type": step.type,
                "arguments": arguments,
                "function": function_arn,
                "property_files": step.raw.get("PropertyFiles", []),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def _cache_path(self, key: str) -> Path:
        return self.config.pipelines_dir / "cache" / f"{key}.json"

    def _cache_get(self, step: Step, key: str) -> dict[str, Any] | None:
        cache = step.raw.get("CacheConfig") or {}
        path = self._cache_path(key)
        if not cache.get("Enabled") or not path.is_file():
            return None
        entry = json.loads(path.read_text())
        age = datetime.now(UTC) - datetime.fromisoformat(entry["created_at"])
        if age > _iso_duration(cache.get("ExpireAfter", "P30D")):
            return None
        return dict(entry)

    def _cache_put(
        self, step: Step, key: str, execution_id: str, props: dict[str, Any], entry: dict[str, Any]
    ) -> None:
        if not (step.raw.get("CacheConfig") or {}).get("Enabled"):
            return
        path = self._cache_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "created_at": datetime.now(UTC).isoformat(),
                    "execution_id": execution_id,
                    "properties": props,
                    "metrics": entry.get("metrics", {}),
                    "registered": entry.get("registered"),
                },
                default=str,
            )
        )

    # --- step types that are not jobs --------------------------------------------------------------
    def _register(self, arguments: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        from ml_pipelines.registry import model_registry

        containers = arguments.get("InferenceSpecification", {}).get("Containers", [])
        if not containers:
            raise DefinitionError("RegisterModel needs InferenceSpecification.Containers")
        metrics = {}
        for section in (arguments.get("ModelMetrics") or {}).values():
            for item in section.values():
                if isinstance(item, dict) and item.get("S3Uri"):
                    path = self.config.local_path(item["S3Uri"])
                    if path.is_dir():  # a processing output folder: SageMaker points at the file
                        candidates = sorted(path.glob("*.json"))
                        path = candidates[0] if candidates else path
                    metrics.update(json.loads(path.read_text()))
        group = arguments["ModelPackageGroupName"]
        status = arguments.get("ModelApprovalStatus", "PendingManualApproval")
        registry = model_registry(self.settings)
        registry.create_group(group, description=arguments.get("ModelPackageDescription", ""))
        version = registry.register(
            group,
            model_data_url=containers[0].get("ModelDataUrl", ""),
            image_uri=containers[0].get("Image", ""),
            metrics=metrics,
            metadata={str(k): str(v) for k, v in (arguments.get("CustomerMetadataProperties") or {}).items()},
            approval_status=status,
        )
        entry["registered"] = {"group": group, "version": version.version, "status": version.status}
        return {
            "ModelPackageArn": version.arn,
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version.version,
            "ModelApprovalStatus": version.status,
        }

    def _create_model(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        folder = self.config.pipelines_dir / "models"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(arguments, indent=2, default=str))
        return {"ModelName": name, "ModelArn": f"arn:aws:sagemaker:local:000000000000:model/{name.lower()}"}

    def _invoke_lambda(self, step: Step, function_arn: str, arguments: Any) -> dict[str, Any]:
        handler = self._handler(function_arn, f"step '{step.name}'")
        response = handler(arguments, None)
        outputs = {}
        for spec in step.raw.get("OutputParameters", []):
            name = spec["OutputName"]
            if not isinstance(response, dict) or name not in response:
                raise StepFailed(step.name, f"Lambda response has no output parameter {name!r}")
            outputs[name] = response[name]
        return {"OutputParameters": outputs}

    def _transform(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        transform = self._transformer(f"transform {name}")
        output = arguments["TransformOutput"]["S3OutputPath"]
        transform(
            self.settings,
            self.config,
            model_name=arguments["ModelName"],
            input_uri=arguments["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"],
            output_uri=output,
            content_type=arguments["TransformInput"].get("ContentType", "text/csv"),
            data_processing=arguments.get("DataProcessing") or {},
        )
        return {
            "TransformJobName": name,
            "TransformJobStatus": "Completed",
            "TransformOutput": {"S3OutputPath": output},
            "TransformJobArn": f"arn:aws:sagemaker:local:000000000000:transform-job/{name.lower()}",
        }


def _covered(intervals: list[tuple[float, float]]) -> float:
    """Seconds during which at least one job process ran (parallel tuning jobs overlap)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def _graph(definition: Definition) -> dict[str, set[str]]:
    from ml_pipelines.runner.definition import upstream

    return upstream(definition)
