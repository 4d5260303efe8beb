"""Executions recorded under `<home>/pipelines/executions/<id>/`: one JSON document rewritten after every
step (so a crash leaves a readable record), and each job's log beside it."""

from __future__ import annotations

import os
from pathlib import Path

from lakeml.core.errors import UsageError
from ml_pipelines.runner.record import ExecutionRecord

RECORD = "execution.json"


class ExecutionStore:
    def __init__(self, pipelines_dir: Path) -> None:
        self.root = pipelines_dir / "executions"

    def folder(self, execution_id: str) -> Path:
        return self.root / execution_id

    def save(self, record: ExecutionRecord) -> None:
        folder = self.folder(record.execution_id)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{RECORD}.tmp"
        tmp.write_text(record.model_dump_json(indent=2))
        os.replace(tmp, folder / RECORD)

    def get(self, execution_id: str | None = None) -> ExecutionRecord:
        """One execution (the latest when no id is given)."""
        if execution_id is None:
            executions = self.list()
            if not executions:
                raise UsageError("no local pipeline executions yet; run `lakeml pipeline run` first")
            return executions[0]
        path = self.folder(execution_id) / RECORD
        if not path.is_file():
            raise UsageError(f"no execution {execution_id!r}; list them with `lakeml pipeline executions`")
        return ExecutionRecord.model_validate_json(path.read_text())

    def list(self) -> list[ExecutionRecord]:
        """Every execution, newest first."""
        if not self.root.is_dir():
            return []
        found = [ExecutionRecord.model_validate_json(p.read_text()) for p in self.root.glob(f"*/{RECORD}")]
        return sorted(found, key=lambda r: r.started_at, reverse=True)
