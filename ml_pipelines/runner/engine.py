"""The execution engine: preflight, then steps in dependency order with caching, retries and records.

Behaves like SageMaker Pipelines where it matters to a user: a failed step stops the execution (steps
already running finish), Condition picks a branch and steps of the other branch do not execute, a
FailStep ends the execution as Failed with its message, CacheConfig reuses a previous step's result when
its resolved arguments are identical, RetryPolicies retry matching failures with backoff.

What each step type does lives in one table of executors (`executors.table`); this module only walks
the graph, and both its passes — preflight and the run — go through that table.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_pipelines.runner import cache, executors, workers
from ml_pipelines.runner.cache import StepCache
from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.definition import Definition, Step, order, upstream
from ml_pipelines.runner.errors import DefinitionError, StepFailed
from ml_pipelines.runner.executor import Executor, FailStepReached, RunContext, StepCall, StepOutput
from ml_pipelines.runner.expressions import Resolver
from ml_pipelines.runner.jobs import JobError
from ml_pipelines.runner.launch import Launcher
from ml_pipelines.runner.record import ExecutionRecord, StepRecord, now
from ml_pipelines.runner.records import ExecutionStore

if TYPE_CHECKING:
    from lakeml.core.settings import Settings
    from ml_pipelines.registry import ModelRegistry

StepEvent = Callable[[str, StepRecord], None]  # ("started" | "finished", the step's record)
DEFAULT_PIPELINE = "lakeml-churn-training"
LOCAL_ARN = "arn:aws:sagemaker:local:000000000000"
RETRYABLE_LOCALLY = {
    "SageMaker.JOB_INTERNAL_ERROR",
    "Step.SERVICE_FAULT",
    "Step.THROTTLING",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
}
MAX_RETRY_DELAY_S = 60.0


class LocalRunner:
    def __init__(
        self,
        settings: Settings,
        definition: Definition,
        *,
        registry: ModelRegistry | None = None,
        config: RunnerConfig | None = None,
        pipeline_name: str = DEFAULT_PIPELINE,
    ) -> None:
        self.definition = definition
        self.config = config or RunnerConfig.from_settings(settings)
        self.pipeline_name = pipeline_name
        self.store = ExecutionStore(self.config.pipelines_dir)
        self.cache = StepCache(self.config.pipelines_dir)
        self.executors = executors.table(RunContext(self.config, settings, registry))
        self.preflight()

    def preflight(self) -> None:
        """Check every step with its executor before anything runs."""
        for step in self.definition.steps.values():
            self.executor(step).check(step, f"step '{step.name}'")
            cache.check(step)

    def executor(self, step: Step) -> Executor:
        return self.executors[step.type]  # load() refused every type without one

    def run(
        self, overrides: dict[str, str] | None = None, on_event: StepEvent | None = None
    ) -> ExecutionRecord:
        parameters = self.definition.resolve_parameters(overrides or {})
        execution_id = uuid.uuid4().hex[:12]
        started = datetime.now(UTC).isoformat()
        pipeline_arn = f"{LOCAL_ARN}:pipeline/{self.pipeline_name}"
        execution = {
            "PipelineExecutionId": execution_id,
            "PipelineExecutionArn": f"{pipeline_arn}/execution/{execution_id}",
            "PipelineName": self.pipeline_name,
            "PipelineArn": pipeline_arn,
            "StartDateTime": started,
            "CurrentDateTime": started,
        }
        properties: dict[str, dict[str, Any]] = {}
        resolver = Resolver(parameters, execution, properties, self._property_file_of(properties))
        record = ExecutionRecord(
            execution_id=execution_id,
            pipeline=self.pipeline_name,
            parameters=parameters,
            graph={n: sorted(p) for n, p in upstream(self.definition).items()},
            types={n: s.type for n, s in self.definition.steps.items()},
        )
        self.store.save(record)
        skipped: set[str] = set()
        with workers.launcher(self.config) as launcher:  # warm job workers live for this execution
            for name in order(self.definition):
                step = self.definition.steps[name]
                if name in skipped or (step.branch_of and step.branch_of in skipped):
                    skipped.add(name)
                    continue
                entry = StepRecord(name=name, type=step.type)
                record.steps.append(entry)
                self.store.save(record)
                if on_event:
                    on_event("started", entry)
                begun = time.monotonic()
                try:
                    self._run_step(step, resolver, execution_id, entry, skipped, launcher)
                    entry.status = "Succeeded"
                except FailStepReached as exc:
                    record.fail(entry, exc.message, by_fail_step=True)
                except (StepFailed, DefinitionError) as exc:
                    record.fail(entry, str(exc), by_fail_step=False)
                finally:
                    if name in properties:
                        entry.properties = properties[name]
                    entry.ended_at = now()
                    entry.seconds = round(time.monotonic() - begun, 3)
                    execution["CurrentDateTime"] = datetime.now(UTC).isoformat()
                    self.store.save(record)
                    if on_event:
                        on_event("finished", entry)
                if record.status == "Failed":
                    break
                if entry.registered is not None:
                    record.registered = entry.registered
        if record.status == "Executing":
            record.status = "Succeeded"
        record.ended_at = now()
        record.not_executed = sorted(skipped)
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
        entry: StepRecord,
        skipped: set[str],
        launcher: Launcher,
    ) -> None:
        executor = self.executor(step)
        where = f"step '{step.name}'"
        if executor.control:
            output = executor.run(StepCall(step, resolver))
            self._record(step, entry, output, resolver)
            skipped.update(output.skip)
            return
        arguments = resolver.resolve(step.arguments, where)
        function_arn = resolver.resolve(step.raw.get("FunctionArn"), where)
        entry.inputs = arguments
        key = self.cache.key(step, arguments, function_arn)
        hit = self.cache.get(step, key)
        if hit is not None:
            resolver.step_properties[step.name] = hit.properties
            entry.cache_hit = True
            entry.cached_from = hit.execution_id
            entry.metrics = hit.metrics
            entry.registered = hit.registered
            return
        job_dir = self.store.folder(execution_id) / "jobs" / step.name
        entry.job_dir = str(job_dir)
        call = StepCall(
            step,
            resolver,
            arguments=arguments,
            function_arn=function_arn,
            job_name=f"{step.name}-{execution_id}"[:63],
            job_dir=job_dir,
            launcher=launcher,
        )
        output = self._with_retries(step, entry, lambda: executor.run(call))
        self._record(step, entry, output, resolver)
        entry.properties = output.properties
        self.cache.put(step, key, execution_id, entry)

    @staticmethod
    def _record(step: Step, entry: StepRecord, output: StepOutput, resolver: Resolver) -> None:
        resolver.step_properties[step.name] = output.properties
        entry.log = output.log
        entry.script_seconds = output.script_seconds
        entry.metrics = output.metrics or entry.metrics
        entry.jobs = output.jobs
        entry.registered = output.registered
        entry.outcome = output.outcome

    def _with_retries(self, step: Step, entry: StepRecord, action: Callable[[], StepOutput]) -> StepOutput:
        policies = step.raw.get("RetryPolicies", [])
        job_dir = Path(entry.job_dir) if entry.job_dir else None
        attempt = 0
        while True:
            attempt += 1
            entry.attempts = attempt
            if job_dir is not None and job_dir.exists():  # a retry starts clean, like a new SageMaker job
                shutil.rmtree(job_dir)
            try:
                return action()
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
                interval = float(policy.get("IntervalSeconds", 1))
                delay = interval * float(policy.get("BackoffRate", 2.0)) ** (attempt - 1)
                entry.retries.append({"attempt": attempt, "reason": str(exc), "kind": exc.kind})
                time.sleep(min(delay, MAX_RETRY_DELAY_S))
            except (DefinitionError, StepFailed, FailStepReached):
                raise
            except Exception as exc:  # a local executor bug or environment problem: fail the step, clearly
                raise StepFailed(step.name, f"{type(exc).__name__}: {exc}") from exc
