"""The studio's Pipelines pages: executions, each execution's DAG and step status, and step details.

Local executions are the local runner's records (`ml_pipelines.runner.records.ExecutionStore`, what
`lakeml pipeline executions|logs|graph` read); the DAG is drawn by the same page `lakeml pipeline graph`
writes (`ml_pipelines.runner.graph.render`), re-rendered from the record while the run goes on. With
LAKEML_ENV=aws the executions are listed (ListPipelineExecutions, every pipeline's) and described
(DescribePipelineExecution, ListPipelineExecutionSteps) through the pipeline runner port; an execution
can also be opened by its ARN (what `lakeml pipeline start` prints).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import Settings
from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.port import PipelineRunner
from ml_pipelines.runner.record import ExecutionRecord, StepRecord
from ml_pipelines.runner.records import ExecutionStore

LOG_LIMIT = 64 * 1024  # characters of a step's job output shown on its page (the tail)
REMOTE_EXECUTIONS = 50  # the newest executions listed on AWS (one page of ListPipelineExecutions each)


class Pipelines:
    """What the Pipelines pages read, and the starts they make (each in a thread of its own)."""

    def __init__(self, settings: Settings, runner: Callable[[], PipelineRunner]) -> None:
        self._runner = runner
        self.config = RunnerConfig.from_settings(settings)
        self.store = ExecutionStore(self.config.pipelines_dir)
        self.started: list[dict[str, Any]] = []  # starts made from the studio (name, error)
        self._lock = threading.Lock()

    @property
    def remote(self) -> bool:
        return self._runner().remote

    def definitions(self) -> list[str]:
        """Pipelines upserted for the local runner (`lakeml pipeline upsert|run` store them)."""
        folder = self.config.pipelines_dir / "definitions"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    def executions(self) -> list[dict[str, Any]]:
        """Local: the runner's records, with step counts; AWS: SageMaker's newest, through the port."""
        if self.remote:
            listed = self._runner().executions(limit=REMOTE_EXECUTIONS)
            return [e.model_dump() for e in listed]
        return [summary(r) for r in self.store.list()]

    def record(self, execution_id: str) -> ExecutionRecord:
        return self.store.get(execution_id)

    def start(self, name: str, parameters: dict[str, str]) -> None:
        """Start `name` in a background thread: the local runner runs it to its end inside `start`."""
        if not name or "/" in name:
            raise UsageError("name the pipeline to start, e.g. lakeml-churn-training")
        entry: dict[str, Any] = {"pipeline": name, "error": None, "execution": None}
        with self._lock:
            self.started.append(entry)

        def run() -> None:
            try:
                entry["execution"] = self._runner().start(name, parameters)
            except LakemlError as exc:
                entry["error"] = str(exc)

        threading.Thread(target=run, name=f"studio-start-{name}", daemon=True).start()

    def describe(self, execution: str) -> dict[str, Any]:
        """An execution through the port (SageMaker): status and steps, without the local record's detail."""
        status = self._runner().describe(execution)
        return {
            "execution_id": status.execution_id,
            "pipeline": status.pipeline,
            "status": status.status,
            "parameters": status.parameters,
            "failure_reason": status.failure_reason,
            "steps": [s.model_dump() for s in status.steps],
        }


def summary(record: ExecutionRecord) -> dict[str, Any]:
    done = sum(s.status != "Executing" for s in record.steps)
    return {
        "execution_id": record.execution_id,
        "pipeline": record.pipeline,
        "status": record.status,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "steps_done": done,
        "steps_total": len(record.graph) or len(record.steps),
        "failure_reason": record.failure_reason,
        "failed_step": record.failed_step,
        "registered": record.registered.model_dump() if record.registered else None,
    }


def status_document(record: ExecutionRecord) -> dict[str, Any]:
    """What the execution page polls: the execution's and each step's status — a step without a record is
    Pending while the execution runs, NotExecuted once it ended (a losing branch, or after a failure)."""
    seen = {s.name: s for s in record.steps}
    unstarted = "Pending" if record.status == "Executing" else "NotExecuted"
    steps = []
    for name in record.graph or seen:
        step = seen.get(name)
        steps.append(
            {
                "name": name,
                "type": record.types.get(name) or (step.type if step else ""),
                "status": step.status if step else unstarted,
                "seconds": step.seconds if step else None,
                "cache_hit": bool(step and step.cache_hit),
                "failure_reason": step.failure_reason if step else None,
            }
        )
    return {**summary(record), "steps": steps, "terminal": record.status != "Executing"}


def step_document(record: ExecutionRecord, name: str) -> dict[str, Any]:
    """Everything the step page shows: arguments, metrics, outputs, cache, failure, FailStep message, log."""
    step = record.step(name)
    if step is None:
        if name in record.graph:  # a losing branch of a condition, or not reached yet
            blank = StepRecord(name=name, type=record.types.get(name, "")).model_dump(
                exclude={"log", "job_dir"}
            )
            return {
                **blank,
                "status": "NotExecuted",
                "started_at": None,
                "fail_step_message": None,
                "waits_for": record.graph.get(name, []),
                "log": "",
            }
        names = ", ".join(record.graph) or ", ".join(s.name for s in record.steps)
        raise UsageError(f"execution {record.execution_id} has no step {name!r}; its steps: {names}")
    fail_message = (
        step.failure_reason if record.failed_by_fail_step and record.failed_step == step.name else None
    )
    return {
        **step.model_dump(exclude={"log", "job_dir"}),
        "fail_step_message": fail_message,
        "waits_for": record.graph.get(name, []),
        "log": read_log(step),
    }


def read_log(step: StepRecord) -> str:
    """The step's job output (the tail past LOG_LIMIT), as `lakeml pipeline logs` prints it."""
    paths = (
        [Path(step.log)]
        if step.log
        else sorted(Path(step.job_dir or "/nonexistent").glob("*/logs/output.log"))
    )
    text = "\n".join(p.read_text(errors="replace") for p in paths if p.is_file())
    return text[-LOG_LIMIT:]
