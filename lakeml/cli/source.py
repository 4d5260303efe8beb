"""`lakeml source …`: the local Snowflake server and the churn data in it."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console, want_json
from lakeml.cli.progress import progress_bars
from lakeml.core.errors import UsageError
from lakeml.core.settings import Settings, load_settings

app = typer.Typer(no_args_is_help=True)


def _local_only(settings: Settings, command: str) -> None:
    if settings.env != "local":
        raise UsageError(
            f"`lakeml source {command}` manages the local Snowflake twin; LAKEML_ENV is '{settings.env}'. "
            "Unset LAKEML_ENV (or set it to 'local') to use it."
        )


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
    from lakeml.twins.snowflake import generator
    from lakeml.twins.snowflake.connection import connect

    try:
        start = date.fromisoformat(start_date)
    except ValueError:
        raise UsageError(
            f"--start-date {start_date!r} is not a date; use YYYY-MM-DD, e.g. 2025-01-01"
        ) from None
    settings = load_settings()
    _local_only(settings, "seed")
    config = generator.SeedConfig(
        customers=customers, days=days, seed=seed_value, bad_rate=bad_rate, start_date=start
    )
    with connect(settings) as conn, progress_bars(not want_json(as_json)) as progress:
        report = generator.seed(conn, config, progress=progress)
    emit(report, as_json, lambda doc: _render_counts(f"seeded through {doc['through']}", doc))


@app.command("advance")
@handles_errors
def advance(
    days: int = typer.Option(1, min=1, max=3_650, help="Days to append after the current end of history."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Append N new days and update some existing rows (status changes, profile edits), like a live system."""
    from lakeml.twins.snowflake import generator
    from lakeml.twins.snowflake.connection import connect

    settings = load_settings()
    _local_only(settings, "advance")
    with connect(settings) as conn, progress_bars(not want_json(as_json)) as progress:
        report = generator.advance(conn, days, progress=progress)
    emit(report, as_json, lambda doc: _render_counts(f"advanced through {doc['through']}", doc))


@app.command("drift")
@handles_errors
def drift(as_json: bool = JSON_OPTION) -> None:
    """Apply schema drift to the source: an added column and a retyped column."""
    from lakeml.twins.snowflake import generator
    from lakeml.twins.snowflake.connection import connect

    settings = load_settings()
    _local_only(settings, "drift")
    with connect(settings) as conn:
        report = generator.drift(conn)
    emit(report, as_json, lambda doc: out_console.print_json(data=doc))


@app.command("status")
@handles_errors
def status(as_json: bool = JSON_OPTION) -> None:
    """Rows per source table and where the local server listens."""
    from lakeml.twins.snowflake import generator
    from lakeml.twins.snowflake.connection import connect
    from lakeml.twins.snowflake.server import running

    settings = load_settings()
    with connect(settings) as conn:
        counts = generator.table_counts(conn)
    info = running(settings) if settings.env == "local" else None
    server = info.to_json() if info else {"host": settings.source.host, "port": settings.source.port}
    document = {"tables": counts, "server": server}

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
    from lakeml.twins.snowflake import generator
    from lakeml.twins.snowflake.connection import connect

    settings = load_settings()
    _local_only(settings, "reset")
    if not yes and not want_json(as_json) and not typer.confirm("Drop every table of the local source?"):
        raise typer.Exit(1)
    with connect(settings) as conn:
        generator.reset(conn)
    emit({"reset": True}, as_json, lambda _doc: out_console.print("local source reset"))


@app.command("stop")
@handles_errors
def stop(as_json: bool = JSON_OPTION) -> None:
    """Stop the local Snowflake server of this LAKEML_HOME (data stays on disk)."""
    from lakeml.twins.snowflake import server

    settings = load_settings()
    _local_only(settings, "stop")
    info = server.stop(settings)
    document = {"stopped": info is not None, "server": info.to_json() if info else None}
    emit(
        document,
        as_json,
        lambda doc: out_console.print("stopped" if doc["stopped"] else "no local server was running"),
    )
