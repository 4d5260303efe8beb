"""`lakeml score`: batch-score every customer of the latest `customer_features` snapshot with the Approved
model — the batch-scoring pipeline (its Transform step), executed through the pipeline runner port —
into `<lake>/predictions/churn_scores/`, where dbt's `churn_scores` exposes it."""

from __future__ import annotations

import typer

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console, want_json
from lakeml.cli.pipeline_local import step_printer
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters


@handles_errors
def score_cmd(as_json: bool = JSON_OPTION) -> None:
    """Score every customer of the latest feature snapshot with the Approved model (batch transform)."""
    from ml_pipelines.scoring import score

    settings = load_settings()
    ports = adapters(settings)
    outcome = score(settings, ports.pipelines, ports.lake, on_step=step_printer(want_json(as_json)))
    emit(
        outcome.document(),
        as_json,
        lambda doc: out_console.print(f"scored {doc['rows']:,} customers into {doc['output']}"),
    )


def register(app: typer.Typer) -> None:
    app.command("score", help="Batch-score every customer with the Approved model into the lake.")(score_cmd)
