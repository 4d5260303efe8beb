"""`lakeml lineage VERSION`: which source windows, bronze runs, dbt invocation, training snapshot and
endpoints belong to a model version (`lakeml.lineage.trace`, through the wired ports: the same command
answers for the local registry and lake and for SageMaker and S3).

Exit 0 when every link was followed, 1 when one could not be (each gap says why and what to do; the
document is still printed), 2 for an unknown group or version.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters

DEFAULT_GROUP = "lakeml-churn"  # == ml_pipelines.registry.DEFAULT_GROUP (no heavy import at startup)


@handles_errors
def lineage(
    version: str = typer.Argument(..., help="Version number, or 'champion' for the newest Approved version."),
    group: str = typer.Option(DEFAULT_GROUP, "--group", "-g", help="Model package group."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Where a model version came from: source windows, bronze runs, dbt build, training data, endpoints."""
    from lakeml.lineage import trace

    settings = load_settings()
    ports = adapters(settings)
    found = trace(settings, ports, group, _number(ports.registry, group, version))
    emit(found.to_json(), as_json, _render)
    if found.gaps:
        raise typer.Exit(1)


def _number(registry: Any, group: str, version: str) -> int:
    if version.isdigit():
        return int(version)
    if version == "champion":
        champion = registry.champion(group)
        if champion is None:
            raise UsageError(
                f"{group} has no Approved version; list versions with `lakeml models list --group {group}`"
            )
        return int(champion.version)
    raise UsageError(f"version {version!r} is not a number or 'champion'; e.g. `lakeml lineage 3`")


def _render(doc: dict[str, Any]) -> None:
    model, training, dbt = doc["model"], doc["training"], doc["dbt"]
    out_console.print(f"[bold]{model['name']}[/] ({model['status']}), registered {model['created_at']}")
    out_console.print(
        f"training: execution {training.get('pipeline_execution_id') or '-'}, data snapshot "
        f"{training.get('data_snapshot') or '-'}, git {training.get('git_sha') or '-'}",
        highlight=False,
    )
    for name, split in (training.get("splits") or {}).items():
        out_console.print(
            f"  {name}: {split['rows']} rows, {split['snapshot_from']}..{split['snapshot_to']}",
            highlight=False,
        )
    features = doc["features"]
    if features:
        out_console.print(
            f"features: {features['rows']} rows into {features['feature_group']} "
            f"({features['snapshot_from']}..{features['snapshot_to']})",
            highlight=False,
        )
    if dbt:
        out_console.print(
            f"dbt: invocation {dbt['invocation_id']} ({dbt.get('nodes', '?')} nodes, "
            f"{dbt.get('failed', '?')} failed) at {dbt.get('generated_at') or '?'}; {dbt['run_results']}",
            highlight=False,
        )
    if doc["source_windows"]:
        table = Table(title="source windows (bronze runs dbt read)")
        for column in ("table", "runs", "from", "to"):
            table.add_column(column)
        for name, window in doc["source_windows"].items():
            table.add_row(name, str(window["runs"]), window["from"] or "(beginning)", window["to"])
        out_console.print(table)
    for endpoint in doc["endpoints"]:
        serves = "serves this version" if endpoint["this_version"] else f"serves {endpoint['serving']}"
        config = f" (config {endpoint['config']})" if endpoint.get("config") else ""
        out_console.print(f"endpoint {endpoint['endpoint']}: {serves}{config}", highlight=False)
    for gap in doc["gaps"]:
        err_console.print(f"[yellow]gap:[/] {gap}", highlight=False, soft_wrap=True)
