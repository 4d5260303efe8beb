"""`lakeml run`: the daily flow in one process tree, in the same order as the Step Functions workflow.

Each stage is a function (settings, progress) -> JSON-able document with a one-line `summary`. A stage
that raises stops the run; the error names the stage. Stages are added here as they exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakeml.errors import LakemlError
from lakeml.settings import Settings

ProgressFn = Callable[[str, int, int], None]
StageFn = Callable[[Settings, ProgressFn], dict[str, Any]]


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: StageFn


def source_stage(settings: Settings, progress: ProgressFn) -> dict[str, Any]:
    """Seed the local source when it is empty; leave it alone otherwise."""
    from lakeml.source import generator
    from lakeml.source.connection import connect

    with connect(settings) as conn:
        counts = generator.table_counts(conn)
        if any(counts.values()):
            return {
                "seeded": False,
                "tables": counts,
                "summary": f"source has {sum(counts.values()):,} rows; kept as is",
            }
        report = generator.seed(conn, generator.SeedConfig(), progress=progress)
    return {
        "seeded": True,
        **report,
        "summary": f"seeded {sum(report['tables'].values()):,} rows through {report['through']}",
    }


def ingest_stage(settings: Settings, progress: ProgressFn) -> dict[str, Any]:
    """Land new and changed source rows in bronze (the same call as the Lambda handler)."""
    from ingestion.run import ingest

    report = ingest(settings, progress=progress).model_dump(mode="json")
    landed = sum(r["landed"] for r in report["runs"])
    quarantined = sum(r["quarantined"] for r in report["runs"])
    return {**report, "summary": f"landed {landed:,} rows, quarantined {quarantined:,}"}


def stages(settings: Settings) -> list[Stage]:
    found = [
        Stage("source", "local Snowflake with churn data", source_stage),
        Stage("ingest", "Snowflake -> bronze, exactly once", ingest_stage),
    ]
    if settings.env != "local":
        found = [s for s in found if s.name != "source"]
    return found


class StageFailed(LakemlError):
    def __init__(self, stage: str, cause: Exception, completed: dict[str, Any]) -> None:
        super().__init__(f"stage '{stage}' failed: {cause}")
        self.stage = stage
        self.completed = completed
        self.exit_code = getattr(cause, "exit_code", 1)


def run_all(
    settings: Settings, progress: ProgressFn, on_stage: Callable[[Stage, dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Run every stage in order; return {stage: document} plus timings."""
    documents: dict[str, Any] = {}
    for stage in stages(settings):
        started = time.monotonic()
        try:
            document = stage.run(settings, progress)
        except Exception as exc:
            raise StageFailed(stage.name, exc, documents) from exc
        document["seconds"] = round(time.monotonic() - started, 2)
        documents[stage.name] = document
        if on_stage:
            on_stage(stage, document)
    return documents
