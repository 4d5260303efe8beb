"""`lakeml transform` (dbt build: bronze -> silver -> gold, tests as gates) and `lakeml docs`."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.cli.progress import progress_bars
from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import Settings, load_settings
from lakeml.wiring import adapters

STATUS_STYLE = {"success": "green", "pass": "green", "warn": "yellow", "skipped": "yellow"}


class TestsFailed(LakemlError):
    """dbt build ran but a model or test failed: exit 1, with the JSON report still printed."""


def _with_target(settings: Settings, target: str | None) -> Settings:
    """`--target` overrides the setting transform.target (the wiring picks the adapter from it)."""
    if target is None:
        return settings
    if target not in ("local", "glue"):
        raise UsageError(
            f"--target {target!r} is not a transform target; use local or glue "
            "(the Snowflake extraction views: --snowflake)"
        )
    return settings.model_copy(update={"transform": settings.transform.model_copy(update={"target": target})})


@handles_errors
def transform(
    select: list[str] = typer.Option(
        None, "--select", "-s", help="dbt selector(s), e.g. 'silver', '+customer_features', 'tag:gold'."
    ),
    full_refresh: bool = typer.Option(
        False,
        "--full-refresh",
        help="Rebuild incremental models from all of bronze; with --snowflake, rebuild the views even if unchanged.",
    ),
    snowflake: bool = typer.Option(
        False,
        "--snowflake",
        help="Build the Snowflake extraction views (models tagged snowflake) in the source instead.",
    ),
    target: str = typer.Option(
        None,
        "--target",
        help="Transform target: local or glue (default: transform.target, else local, or glue when LAKEML_ENV=aws).",
    ),
    docs: bool = typer.Option(
        False, "--docs", help="Then generate the docs site too, in the same Spark session (no second start)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run `dbt build`: silver and gold models with their tests; a failing test skips what depends on it."""
    from ingestion.visibility import publish_visibility
    from lakeml.transform import NodeResult, build, docs_generate
    from lakeml.transform.views import ensure_extraction_views

    ports = adapters(_with_target(load_settings(), target))
    dbt_target = ports.transform_target
    quiet = want_json(as_json)

    def show(node: NodeResult) -> None:
        if quiet or (node.ok and node.status != "skipped"):
            return
        style = STATUS_STYLE.get(node.status, "red")
        detail = f": {node.message}" if node.message and node.status != "skipped" else ""
        err_console.print(f"[{style}]{node.status.upper()}[/] {node.resource_type} {node.name}{detail}")

    with progress_bars(not quiet) as progress:
        views = None
        if snowflake:
            views = ensure_extraction_views(
                dbt_target, ports.source.connection, force=full_refresh, progress=progress
            )
            report = views.report
        else:
            # dbt's bronze relations read ingestion's visibility index: republish it from the manifests
            # first, so bronze as dbt reads it is what `ingest verify` counts even after a crash.
            publish_visibility(ports.lake)
            report = build(dbt_target, select=select or (), full_refresh=full_refresh, progress=progress)
    for node in report.nodes:
        show(node)
    document = views.to_json() if views else report.to_json()
    if docs and not snowflake and report.success and not report.failed:
        document["docs"] = str(docs_generate(dbt_target) / "index.html")

    def render(doc: dict[str, Any]) -> None:
        table = Table(title=f"dbt build ({doc['target']})")
        for column in ("models", "tests", "passed", "failed", "skipped", "seconds"):
            table.add_column(column, justify="right")
        table.add_row(
            str(doc["models"]),
            str(doc["tests"]),
            str(doc["passed"]),
            str(len(doc["failed"])),
            str(len(doc["skipped"])),
            f"{doc['seconds']:.1f}",
        )
        out_console.print(table)
        if "views" in doc:
            out_console.print(f"extraction views {doc['views']}: {doc['reason']}", highlight=False)

    emit(document, as_json, render)
    if report.failed or not report.success:
        failed = ", ".join(report.failed) or "see the dbt log"
        err_console.print(
            f"[bold red]error:[/] dbt build failed ({failed}); failing rows are in the quarantine "
            f"schema ({dbt_target.quarantine_uri}/<test>); log: {dbt_target.logs_dir / 'dbt.log'}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


@handles_errors
def docs(
    generate_only: bool = typer.Option(
        False, "--generate-only", help="Only run `dbt docs generate`; do not serve."
    ),
    port: int = typer.Option(8580, "--port", min=1, max=65535, help="Port of the docs site on 127.0.0.1."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Generate the dbt docs site (every model and column) and serve it on 127.0.0.1."""
    import json

    from lakeml.transform import docs_generate, run_dbt

    dbt_target = adapters(load_settings()).transform_target
    with progress_bars(not want_json(as_json)):
        out = docs_generate(dbt_target)
    catalog = json.loads((out / "catalog.json").read_text())
    document = {
        "path": str(out / "index.html"),
        "models": len(catalog.get("nodes", {})),
        "sources": len(catalog.get("sources", {})),
    }
    if generate_only:
        emit(
            document,
            as_json,
            lambda d: out_console.print(f"docs written to {d['path']} ({d['models']} nodes)"),
        )
        return
    err_console.print(f"serving dbt docs on http://127.0.0.1:{port} (Ctrl-C to stop)")
    run_dbt(dbt_target, ["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"])
