"""`lakeml source …`: the local Snowflake server and the churn data in it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console, want_json
from lakeml.cli.progress import progress_bars
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters

if TYPE_CHECKING:
    from lakeml.twins.snowflake.twin import SnowflakeTwin

app = typer.Typer(no_args_is_help=True)


def _twin(command: str) -> SnowflakeTwin:
    """This home's twin; on AWS a usage error naming the command (there is no twin to manage)."""
    try:
        return adapters(load_settings()).twin
    except UsageError as exc:
        raise UsageError(f"`lakeml source {command}` manages the local Snowflake twin; {exc}") from None


def _render_counts(title: str, doc: dict[str, Any]) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in doc["tables"].items():
        table.add_row(name, f"{rows:,}")
    out_console.print(table)


@app.command("seed")
@handles_errors
def seed(
    customers: int = typer.Option(5_000, min=1, max=50_000_000, help="Number of customers to generate."),
    days: int = typer.Option(450, min=1, max=3_650, help="Days of history to generate."),
    seed_value: int = typer.Option(42, "--seed", min=0, help="Random seed: same seed, same table contents."),
    bad_rate: float = typer.Option(
        0.0, min=0.0, max=0.5, help="Fraction of rows made bad on purpose (0-0.5)."
    ),
    start_date: str = typer.Option("2025-01-01", help="First day of history (YYYY-MM-DD)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create RETAIL.RAW and fill it with deterministic, realistic churn data."""
    from lakeml.twins.snowflake.generator import SeedConfig

    try:
        start = date.fromisoformat(start_date)
    except ValueError:
        raise UsageError(
            f"--start-date {start_date!r} is not a date; use YYYY-MM-DD, e.g. 2025-01-01"
        ) from None
    twin = _twin("seed")
    config = SeedConfig(customers=customers, days=days, seed=seed_value, bad_rate=bad_rate, start_date=start)
    with progress_bars(not want_json(as_json)) as progress:
        report = twin.seed(config, progress=progress)
    emit(report, as_json, lambda doc: _render_counts(f"seeded through {doc['through']}", doc))


@app.command("advance")
@handles_errors
def advance(
    days: int = typer.Option(1, min=1, max=3_650, help="Days to append after the current end of history."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Append N new days and update some existing rows (status changes, profile edits), like a live system."""
    twin = _twin("advance")
    with progress_bars(not want_json(as_json)) as progress:
        report = twin.advance(days, progress=progress)
    emit(report, as_json, lambda doc: _render_counts(f"advanced through {doc['through']}", doc))


@app.command("drift")
@handles_errors
def drift(as_json: bool = JSON_OPTION) -> None:
    """Apply schema drift to the source: an added column and a retyped column."""
    report = _twin("drift").drift()
    emit(report, as_json, lambda doc: out_console.print_json(data=doc))


@app.command("status")
@handles_errors
def status(as_json: bool = JSON_OPTION) -> None:
    """Rows per source table and where the local server listens."""
    document = _twin("status").status()

    def render(doc: dict[str, Any]) -> None:
        _render_counts("RETAIL.RAW", doc)
        out_console.print(f"server: {doc['server']['host']}:{doc['server']['port']}")

    emit(document, as_json, render)


@app.command("reset")
@handles_errors
def reset(
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Drop the local source's data (the server keeps running)."""
    twin = _twin("reset")
    if not yes and not want_json(as_json) and not typer.confirm("Drop every table of the local source?"):
        raise typer.Exit(1)
    twin.reset()
    emit({"reset": True}, as_json, lambda _doc: out_console.print("local source reset"))


@app.command("stop")
@handles_errors
def stop(as_json: bool = JSON_OPTION) -> None:
    """Stop the local Snowflake server of this LAKEML_HOME (data stays on disk)."""
    info = _twin("stop").stop()
    document = {"stopped": info is not None, "server": info.to_json() if info else None}
    emit(
        document,
        as_json,
        lambda doc: out_console.print("stopped" if doc["stopped"] else "no local server was running"),
    )
