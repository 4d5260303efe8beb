"""Batch scoring as a library call: `score()` publishes the batch-scoring pipeline, executes it through
the runner port — BatchInputs, CreateModel, the Transform step — and counts the scores it wrote to
`<lake>/predictions/churn_scores/` (where dbt's `churn_scores` exposes them), through the lake port."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs
from pydantic import BaseModel

from lakeml.core.errors import LakemlError
from ml_pipelines.lifecycle import execute, publish
from ml_pipelines.pipeline import BATCH_PIPELINE, Target, scores_uri
from ml_pipelines.runner.port import ExecutionStatus, PipelineRunner, StepCallback

if TYPE_CHECKING:
    from lakeml.core.lake import LakeStorage
    from lakeml.core.settings import Settings


class ScoringOutcome(BaseModel):
    execution: ExecutionStatus
    rows: int
    output: str  # the scores' folder, as a path of the lake's filesystem

    def document(self) -> dict[str, Any]:
        return {**self.execution.document(), "rows": self.rows, "output": self.output}


def score(
    settings: Settings,
    pipelines: PipelineRunner,
    lake: LakeStorage,
    *,
    on_step: StepCallback | None = None,
    timeout_s: float | None = None,
) -> ScoringOutcome:
    """Score every customer of the latest feature snapshot with the Approved model; raise if it failed."""
    publish(settings, pipelines, batch=True)
    uri = scores_uri(Target.from_settings(settings))
    status = execute(pipelines, BATCH_PIPELINE, {"OutputUri": uri}, on_step=on_step, timeout_s=timeout_s)
    if status.status != "Succeeded":
        details = f" (details: `{status.logs_hint}`)" if status.logs_hint else ""
        raise LakemlError(f"batch scoring failed: {status.failure_reason}{details}")
    output = lake.resolve(uri)
    return ScoringOutcome(execution=status, rows=count_lines(lake, output), output=output)


def count_lines(lake: LakeStorage, folder: str) -> int:
    """Lines of every `*.out` file under `folder` (one score per line, as batch transform writes them)."""
    files = lake.fs.get_file_info(pafs.FileSelector(folder, recursive=True, allow_not_found=True))
    total = 0
    for info in files:
        if info.type == pafs.FileType.File and info.path.endswith(".out"):
            with lake.fs.open_input_stream(info.path) as stream:
                total += stream.read().count(b"\n")
    return total
