"""`lakeml run`: the daily flow through the orchestrator port, with progress and a closing summary.

Locally the stages run in this process; with LAKEML_ENV=aws this starts the Step Functions state machine
and follows it. Either way the same result is printed, and a failed stage exits non-zero naming it."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.cli.pipeline_local import parse_params
from lakeml.cli.progress import progress_bars
from lakeml.core.settings import Settings, load_settings
from lakeml.flow.local import describe
from lakeml.flow.port import FlowRequest, StageOutcome
from lakeml.wiring import adapters


@handles_errors
def run(
    param: list[str] = typer.Option(
        [], "--param", help="Training pipeline parameter K=V (repeatable), e.g. MaxTuningJobs=4."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the daily flow end to end: source -> views -> ingest -> transform -> quality -> train -> score."""
    settings = load_settings()
    quiet = want_json(as_json)

    def announce(stage: StageOutcome) -> None:
        if quiet:
            return
        mark = "[green]✓[/]" if stage.status == "Succeeded" else "[red]✗[/]"
        err_console.print(
            f"{mark} {stage.name}: {stage.summary or 'done'} ({stage.seconds:.1f} s)", highlight=False
        )

    request = FlowRequest(tables=configured_tables(settings), pipeline_params=parse_params(param))
    with progress_bars(not quiet) as progress:
        result = adapters(settings).orchestrator.run(request, on_stage=announce, progress=progress)
    document = {**describe(result), "home": str(settings.home)}

    def render(doc: dict[str, Any]) -> None:
        table = Table(title=f"lakeml run ({doc['status']})")
        table.add_column("stage")
        table.add_column("result")
        table.add_column("seconds", justify="right")
        for name, stage in doc["stages"].items():
            table.add_row(name, stage.get("summary", ""), f"{stage['seconds']:.1f}")
        out_console.print(table)
        out_console.print(f"state: {doc['home']}")
        registered = (doc["stages"].get("train") or {}).get("registered")
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

    if result.status != "Succeeded":
        if want_json(as_json):
            emit({**document, "exit_code": result.exit_code}, True)
        err_console.print(f"[bold red]error:[/] {result.error}", highlight=False, soft_wrap=True)
        raise typer.Exit(result.exit_code or 1)
    emit(document, as_json, render)


def configured_tables(settings: Settings) -> list[str]:
    """The tables of the sources file, in its order: what the state machine's ingest Map goes over (the
    scheduler sends the same list)."""
    from ingestion.config import load_sources, sources_path

    return list(load_sources(sources_path(settings)).tables)
