"""`lakeml score`: batch-score every customer of the latest `customer_features` snapshot with the Approved
model — the batch pipeline's TransformStep, run by the local runner — into `<lake>/predictions/churn_scores/`,
where dbt's `churn_scores` exposes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console, want_json
from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings, load_settings


def score(settings: Settings, quiet: bool = True) -> dict[str, Any]:
    from lakeml.cli.pipeline_local import run_local, summary
    from ml_pipelines.pipeline import definition_for
    from ml_pipelines.runner.config import RunnerConfig

    record = run_local(settings, definition_for(settings, batch=True), {}, quiet)
    document = summary(record)
    if record["status"] != "Succeeded":
        raise LakemlError(
            f"batch scoring failed: {record.get('failure_reason')} "
            f"(details: `lakeml pipeline logs {record['execution_id']} {record.get('failed_step', '')}`)"
        )
    output = RunnerConfig.from_settings(settings).local_path(record["parameters"]["OutputUri"])
    rows = sum(1 for f in Path(output).rglob("*.out") for _ in f.open())
    return {**document, "rows": rows, "output": str(output)}


@handles_errors
def score_cmd(as_json: bool = JSON_OPTION) -> None:
    """Score every customer of the latest feature snapshot with the Approved model (batch transform)."""
    document = score(load_settings(), quiet=want_json(as_json))
    emit(
        document,
        as_json,
        lambda doc: out_console.print(f"scored {doc['rows']:,} customers into {doc['output']}"),
    )


def register(app: typer.Typer) -> None:
    app.command("score", help="Batch-score every customer with the Approved model into the lake.")(score_cmd)
