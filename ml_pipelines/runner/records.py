"""Executions recorded under `<home>/pipelines/executions/<id>/`: one JSON document rewritten after every
step (so a crash leaves a readable record), and each job's log beside it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakeml.core.errors import UsageError


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ExecutionStore:
    def __init__(self, pipelines_dir: Path) -> None:
        self.root = pipelines_dir / "executions"

    def folder(self, execution_id: str) -> Path:
        return self.root / execution_id

    def save(self, record: dict[str, Any]) -> None:
        folder = self.folder(record["execution_id"])
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "execution.json.tmp"
        tmp.write_text(json.dumps(record, indent=2, default=str))
        os.replace(tmp, folder / "execution.json")

    def get(self, execution_id: str | None = None) -> dict[str, Any]:
        """One execution (the latest when no id is given)."""
        if execution_id is None:
            executions = self.list()
            if not executions:
                raise UsageError("no local pipeline executions yet; run `lakeml pipeline run --local` first")
            return executions[0]
        path = self.folder(execution_id) / "execution.json"
        if not path.is_file():
            raise UsageError(f"no execution {execution_id!r}; list them with `lakeml pipeline executions`")
        return dict(json.loads(path.read_text()))

    def list(self) -> list[dict[str, Any]]:
        """Every execution, newest first."""
        if not self.root.is_dir():
            return []
        found = [json.loads(p.read_text()) for p in self.root.glob("*/execution.json")]
        return sorted(found, key=lambda r: r.get("started_at", ""), reverse=True)
