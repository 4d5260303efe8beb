"""`lakeml ingest …`: Snowflake -> bronze, and the audit that proves nothing was lost or doubled.

`lakeml ingest` itself runs the ingestion (the same `ingestion.run.ingest(settings, ports, …)` call as the
Lambda handler, with the ports `lakeml.wiring.adapters(settings)` picks); `lakeml ingest verify`
reconciles the source with committed bronze.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.cli.progress import progress_bars
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings

app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


def _render_runs(doc: dict[str, Any]) -> None:
    table = Table(title="lakeml ingest")
    for column in ("table", "status", "extracted", "landed", "quarantined", "files", "watermark", "seconds"):
        table.add_column(
            column, justify="right" if column not in ("table", "status", "watermark") else "left"
        )
    for run in doc["runs"]:
        table.add_row(
            run["table"],
            run["status"],
            f"{run['extracted']:,}",
            f"{run['landed']:,}",
            f"{run['quarantined']:,}",
            str(run["files"]),
            f"{run['watermark_from']} -> {run['watermark_to']}",
            f"{run['seconds']:.1f}",
        )
    out_console.print(table)
    for run in doc["runs"]:
        if run.get("recovered"):
            out_console.print(
                f"{run['table']}: rolled forward committed run(s) {', '.join(run['recovered'])}"
            )


@app.callback()
@handles_errors
def ingest_cmd(
    ctx: typer.Context,
    table: list[str] = typer.Option(
        None, "--table", "-t", help="Table to ingest (repeatable); default: all."
    ),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Re-extract whole tables; the new run supersedes earlier ones."
    ),
    until: str = typer.Option(
        None,
        "--until",
        help="Backfill rows with cursor <= TS (ISO time) as an extra run; state does not move.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Extract new and changed rows from the source into bronze (exactly once)."""
    if ctx.invoked_subcommand is not None:
        return
    from ingestion.report import IngestFailed
    from ingestion.run import ingest
    from lakeml.wiring import adapters

    until_ts = None
    if until is not None:
        try:
            until_ts = datetime.fromisoformat(until)
        except ValueError:
            raise UsageError(
                f"--until {until!r} is not a time; use ISO format, e.g. 2025-06-30T23:59:59"
            ) from None
        if until_ts.tzinfo is not None:
            until_ts = until_ts.replace(tzinfo=None)
    settings = load_settings()
    ports = adapters(settings)
    with progress_bars(not want_json(as_json)) as progress, _source_closed(ports):
        try:
            report = ingest(
                settings,
                ports,
                tables=table or None,
                full_refresh=full_refresh,
                until=until_ts,
                progress=progress,
            )
        except IngestFailed as exc:
            document = exc.report.model_dump(mode="json")
            if want_json(as_json):
                document.update(error=str(exc), exit_code=exc.exit_code)
                sys.stdout.write(json.dumps(document, indent=2) + "\n")
            else:
                _render_runs(document)
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
    emit(report.model_dump(mode="json"), as_json, _render_runs)


@contextmanager
def _source_closed(ports: Any) -> Iterator[None]:
    """A command ends its Snowflake session when it is done (logs out, instead of leaving the session
    to expire); a Lambda keeps its connection warm between invocations instead."""
    try:
        yield
    finally:
        ports.source.close()


@app.command("verify")
@handles_errors
def verify_cmd(
    table: list[str] = typer.Option(None, "--table", "-t", help="Table to check (repeatable); default: all."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Reconcile the source with committed bronze: missing and duplicated rows per table (exit 1 if any)."""
    from ingestion.verify import verify
    from lakeml.wiring import adapters

    settings = load_settings()
    ports = adapters(settings)
    with _source_closed(ports):
        document = verify(settings, ports, table or None)

    def render(doc: dict[str, Any]) -> None:
        view = Table(title="lakeml ingest verify (committed windows, key + cursor)")
        for column in ("table", "source_rows", "bronze_rows", "quarantined_rows", "missing", "duplicates"):
            view.add_column(column, justify="left" if column == "table" else "right")
        for name, row in doc.items():
            view.add_row(
                name,
                *(
                    f"{row[c]:,}"
                    for c in ("source_rows", "bronze_rows", "quarantined_rows", "missing", "duplicates")
                ),
            )
        out_console.print(view)

    emit(document, as_json, render)
    broken = [
        f"{name} ({row['missing']} missing, {row['duplicates']} duplicated)"
        for name, row in document.items()
        if row["missing"] or row["duplicates"]
    ]
    if broken:
        err_console.print(
            f"[bold red]error:[/] committed bronze does not match the source: {', '.join(broken)}. Rows missing "
            "below the watermark were committed late (raise lag_seconds in ingestion/sources.yml and run "
            "`lakeml ingest --table T --full-refresh`); duplicates mean a reader-visible run overlaps another.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


@app.command("restore")
@handles_errors
def restore_cmd(
    table: str = typer.Option(..., "--table", "-t", help="Table whose runs to bring back."),
    run: list[str] = typer.Option(None, "--run", "-r", help="Run id to bring back (repeatable)."),
    all_deleted: bool = typer.Option(
        False, "--all-deleted", help="Every run of the table with a deleted manifest or part."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be restored; change nothing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Bring back deleted bronze runs from the lake bucket's versions (disaster recovery)."""
    from ingestion.config import load_sources, sources_path
    from ingestion.restore import restore_runs
    from lakeml.wiring import adapters

    if bool(run) == all_deleted:
        raise UsageError(
            "say which runs: --run <run_id> (repeatable) or --all-deleted; `--all-deleted --dry-run` lists them"
        )
    settings = load_settings()
    config = load_sources(sources_path(settings)).table(table)
    report = restore_runs(adapters(settings), config, None if all_deleted else list(run), dry_run=dry_run)

    def render(doc: dict[str, Any]) -> None:
        view = Table(title="lakeml ingest restore" + (" (dry run: nothing changed)" if dry_run else ""))
        for column in ("table", "run", "manifest", "restored", "present"):
            view.add_column(column, justify="right" if column in ("restored", "present") else "left")
        for item in doc["runs"]:
            view.add_row(
                item["table"],
                item["run_id"],
                item["manifest"],
                str(len(item["restored"])),
                str(item["present"]),
            )
        out_console.print(view)
        for item in doc["skipped"]:
            out_console.print(f"skipped {item['run_id']}: {item['reason']}")
        if not dry_run:
            out_console.print(f"check it: lakeml ingest verify --table {config.name}")

    emit(report.model_dump(), as_json, render)
