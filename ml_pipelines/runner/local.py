"""Local adapter of the pipeline runner port: definitions kept under LAKEML_HOME, executed by the local
runner in this process.

`upsert` checks the definition the way the runner will execute it (so an unsupported feature fails at
upsert, as a malformed definition fails at SageMaker's CreatePipeline) and stores it in
`<home>/pipelines/definitions/<name>.json`. `start` runs the execution to its end before it returns
(steps are reported to `on_step` as they start and finish) and draws its graph page; `describe` reads
the execution record the runner keeps (`records.ExecutionStore`), and `executions` lists those records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeml.core.errors import LakemlError
from ml_pipelines.runner import graph
from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.definition import load
from ml_pipelines.runner.engine import LOCAL_ARN, LocalRunner
from ml_pipelines.runner.port import (
    ExecutionStatus,
    ExecutionSummary,
    PipelineNotFound,
    RegisteredModel,
    StepCallback,
    StepStatus,
    UpsertResult,
)
from ml_pipelines.runner.record import ExecutionRecord, StepRecord, now
from ml_pipelines.runner.records import ExecutionStore

if TYPE_CHECKING:
    from lakeml.core.settings import Settings
    from ml_pipelines.registry import ModelRegistry

GRAPH_PAGE = "graph.html"


def step_status(step: StepRecord) -> StepStatus:
    return StepStatus(
        name=step.name,
        type=step.type,
        status=step.status,
        seconds=step.seconds,
        failure_reason=step.failure_reason,
        cache_hit=step.cache_hit,
    )


class LocalPipelineRunner:
    remote = False

    def __init__(
        self, settings: Settings, registry: ModelRegistry | None, *, config: RunnerConfig | None = None
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.config = config or RunnerConfig.from_settings(settings)
        self.definitions = self.config.pipelines_dir / "definitions"
        self.store = ExecutionStore(self.config.pipelines_dir)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise LakemlError(f"{name!r} is not a pipeline name")
        return self.definitions / f"{name}.json"

    def upsert(self, name: str, definition: dict[str, Any], *, description: str = "") -> UpsertResult:
        load(definition)  # raises DefinitionError / UnsupportedFeature naming what cannot run here
        path = self._path(name)
        existing = json.loads(path.read_text()) if path.is_file() else None
        body = json.dumps(definition)
        stored = {
            "name": name,
            "arn": f"{LOCAL_ARN}:pipeline/{name}",
            "description": description,
            "created_at": existing["created_at"] if existing else now(),
            "updated_at": now(),
            "definition": definition,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        os.replace(tmp, path)
        return UpsertResult(
            pipeline=name,
            arn=stored["arn"],
            action="updated" if existing else "created",
            definition_bytes=len(body),
        )

    def definition(self, name: str) -> dict[str, Any]:
        """The definition last upserted as `name`."""
        path = self._path(name)
        if not path.is_file():
            raise PipelineNotFound(name, f"locally (no {path})")
        return dict(json.loads(path.read_text())["definition"])

    def start(
        self, name: str, parameters: Mapping[str, str] | None = None, *, on_step: StepCallback | None = None
    ) -> str:
        runner = LocalRunner(
            self.settings,
            load(self.definition(name)),
            registry=self.registry,
            config=self.config,
            pipeline_name=name,
        )

        def report(_kind: str, step: StepRecord) -> None:
            if on_step:
                on_step(step_status(step))

        record = runner.run(dict(parameters or {}), on_event=report)
        graph.write(record, self.store.folder(record.execution_id) / GRAPH_PAGE)
        return record.execution_id

    def record(self, execution: str) -> ExecutionRecord:
        """The local runner's full record of an execution (an id, or the local ARN `start` implies)."""
        return self.store.get(execution.rsplit("/", 1)[-1])

    def describe(self, execution: str) -> ExecutionStatus:
        record = self.record(execution)
        page = self.store.folder(record.execution_id) / GRAPH_PAGE
        failed = record.failed_step
        return ExecutionStatus(
            execution_id=record.execution_id,
            pipeline=record.pipeline,
            status=record.status,
            parameters={k: _text(v) for k, v in record.parameters.items()},
            steps=[step_status(s) for s in record.steps],
            failure_reason=record.failure_reason,
            failed_step=failed,
            failed_by_fail_step=record.failed_by_fail_step,
            registered=RegisteredModel(**record.registered.model_dump()) if record.registered else None,
            graph=str(page) if page.is_file() else None,
            logs_hint=f"lakeml pipeline logs {record.execution_id} {failed}" if failed else None,
        )

    def executions(self, pipeline: str | None = None, *, limit: int | None = None) -> list[ExecutionSummary]:
        if pipeline is not None and not self._path(pipeline).is_file():
            raise PipelineNotFound(pipeline, f"locally (no {self._path(pipeline)})")
        records = [r for r in self.store.list() if pipeline is None or r.pipeline == pipeline]
        return [
            ExecutionSummary(
                execution_id=r.execution_id,
                pipeline=r.pipeline,
                status=r.status,
                started_at=r.started_at,
                ended_at=r.ended_at,
                failure_reason=r.failure_reason,
                registered=RegisteredModel(**r.registered.model_dump()) if r.registered else None,
            )
            for r in records[:limit]
        ]

    def wait(
        self, execution: str, *, timeout_s: float | None = None, on_step: StepCallback | None = None
    ) -> ExecutionStatus:
        """Executions end inside `start`; one still Executing was cut short (its process died)."""
        status = self.describe(execution)
        if not status.terminal:
            last = status.steps[-1].name if status.steps else "none"
            raise LakemlError(
                f"execution {status.execution_id} never finished: the process running it ended during "
                f"step {last}; start a new execution (`lakeml pipeline run`)"
            )
        return status


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
