"""`lakeml run`: every stage end to end, with progress and a closing summary."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.cli.pipeline_local import parse_params
from lakeml.cli.progress import progress_bars
from lakeml.core.settings import load_settings


@handles_errors
def run(
    param: list[str] = typer.Option(
        [], "--param", help="Training pipeline parameter K=V (repeatable), e.g. MaxTuningJobs=4."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run every stage end to end: source -> ingest -> transform -> ML (the stages that exist today)."""
    from lakeml.orchestrate import Stage, run_all

    settings = load_settings()
    quiet = want_json(as_json)

    def announce(stage: Stage, document: dict[str, Any]) -> None:
        if not quiet:
            err_console.print(
                f"[green]✓[/] {stage.name}: {document.get('summary', 'done')} ({document['seconds']:.1f} s)"
            )

    with progress_bars(not quiet) as progress:
        documents = run_all(settings, progress, on_stage=announce, pipeline_params=parse_params(param))

    def render(docs: dict[str, Any]) -> None:
        table = Table(title="lakeml run")
        table.add_column("stage")
        table.add_column("result")
        table.add_column("seconds", justify="right")
        for name, doc in docs["stages"].items():
            table.add_row(name, doc.get("summary", ""), f"{doc['seconds']:.1f}")
        out_console.print(table)
        out_console.print(f"state: {docs['home']}")
        registered = (docs["stages"].get("train") or {}).get("registered")
        if registered:
            out_console.print(
                "\nnext:\n"
                f"  lakeml models show {registered['version']}            # metrics, lineage\n"
                f"  lakeml models approve {registered['version']} --reason 'beats the champion'   # deploys it locally\n"
                "  lakeml serve                       # http://127.0.0.1:8080/invocations\n"
                "  lakeml pipeline graph              # the run's DAG as an HTML page",
                highlight=False,
                markup=False,
            )

    emit({"status": "Succeeded", "home": str(settings.home), "stages": documents}, as_json, render)
