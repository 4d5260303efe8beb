"""`lakeml models …`: the model registry — list and inspect versions, approve or reject them.

Approving and rejecting go through `ml_pipelines.decisions.decide_and_deploy` (which `lakeml studio`'s
approval form calls too) and so `ml_pipelines.approval.decide`, the same function the AWS approval event
handler uses: who/when/why are recorded the same way wherever a decision is made. The registry
and the deployer are the ports `lakeml.wiring.adapters` picks (local SQLite + local endpoint, or
SageMaker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.core.settings import load_settings
from lakeml.wiring import Adapters, adapters

if TYPE_CHECKING:
    from ml_pipelines.registry import ModelRegistry

app = typer.Typer(no_args_is_help=True)

DEFAULT_GROUP = (
    "lakeml-churn"  # == ml_pipelines.registry.DEFAULT_GROUP (kept literal: no heavy import at startup)
)
GROUP_OPTION = typer.Option(DEFAULT_GROUP, "--group", "-g", help="Model package group.")
VERSION_ARGUMENT = typer.Argument(..., help="Version number, or 'champion' for the newest Approved version.")


def _ports() -> Adapters:
    return adapters(load_settings())


def _registry() -> ModelRegistry:
    return _ports().registry


def _resolve(registry: ModelRegistry, group: str, version: str) -> int:
    from ml_pipelines.decisions import resolve_version

    return resolve_version(registry, group, version)


def _auc(metrics: dict[str, Any]) -> str:
    value = metrics.get("auc")
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


@app.command("list")
@handles_errors
def list_cmd(
    group: str | None = typer.Option(None, "--group", "-g", help="List this group's versions."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Groups with their champion; with --group, that group's versions."""
    registry = _registry()
    if group is None:
        groups = []
        for name in registry.list_groups():
            versions = registry.list_versions(name)
            champion = next((v for v in reversed(versions) if v.status == "Approved"), None)
            groups.append(
                {
                    "group": name,
                    "versions": len(versions),
                    "pending": sum(v.status == "PendingManualApproval" for v in versions),
                    "champion": champion.version if champion else None,
                }
            )
        emit({"groups": groups}, as_json, _render_groups)
        return
    versions = registry.list_versions(group)
    champion = registry.champion(group)
    document = {
        "group": group,
        "champion": champion.version if champion else None,
        "versions": [v.to_json() for v in versions],
    }
    emit(document, as_json, _render_versions)


def _render_groups(doc: dict[str, Any]) -> None:
    if not doc["groups"]:
        out_console.print("no model package groups yet; the pipeline's register step creates one")
        return
    table = Table(title="model package groups")
    for column in ("group", "versions", "pending", "champion"):
        table.add_column(column)
    for g in doc["groups"]:
        table.add_row(g["group"], str(g["versions"]), str(g["pending"]), str(g["champion"] or "-"))
    out_console.print(table)


def _render_versions(doc: dict[str, Any]) -> None:
    table = Table(title=f"{doc['group']} (champion: {doc['champion'] or 'none'})")
    for column in ("version", "status", "auc", "created", "decided by", "reason"):
        table.add_column(column)
    for v in doc["versions"]:
        mark = " *" if v["version"] == doc["champion"] else ""
        table.add_row(
            f"{v['version']}{mark}",
            v["status"],
            _auc(v["metrics"]),
            v["created_at"][:16].replace("T", " "),
            v["status_by"] or "",
            v["status_reason"] or "",
        )
    out_console.print(table)


@app.command("show")
@handles_errors
def show(
    version: str = VERSION_ARGUMENT,
    group: str = GROUP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """One version: artefact, image, metrics, metadata and its approval history."""
    registry = _registry()
    number = _resolve(registry, group, version)
    model = registry.get(group, number)
    champion = registry.champion(group)
    document = {
        **model.to_json(),
        "champion": champion is not None and champion.version == model.version,
        "history": [e.to_json() for e in registry.history(group, number)],
    }
    emit(document, as_json, _render_version)


def _render_version(doc: dict[str, Any]) -> None:
    champion = " (champion)" if doc["champion"] else ""
    out_console.print(f"[bold]{doc['group']}/{doc['version']}[/] {doc['status']}{champion}", highlight=False)
    for key in ("arn", "model_data_url", "image_uri", "evaluation_url", "created_at"):
        if doc.get(key):
            out_console.print(f"  {key}: {doc[key]}", highlight=False)
    for title in ("metrics", "metadata"):
        if doc[title]:
            out_console.print(f"  {title}:")
            for key, value in sorted(doc[title].items()):
                out_console.print(f"    {key}: {value}", highlight=False)
    out_console.print("  history:" if doc["history"] else "  history: no decisions yet")
    for e in doc["history"]:
        out_console.print(
            f"    {e['at'][:19]} {e['from_status']} -> {e['to_status']} by {e['by']}: {e['reason']}",
            highlight=False,
        )


def _decide(version: str, group: str, approve: bool, by: str | None, reason: str, as_json: bool) -> None:
    from ml_pipelines.approval import default_approver
    from ml_pipelines.decisions import decide_and_deploy

    # The same function as the studio's approval form: same registry state, same deployment.
    outcome = decide_and_deploy(
        _ports(), group, version, approve=approve, by=by or default_approver(), reason=reason
    )

    def render(doc: dict[str, Any]) -> None:
        v, event = doc["version"], doc["event"]
        out_console.print(
            f"{v['group']}/{v['version']}: {event['from_status']} -> {event['to_status']} by {event['by']} "
            f"at {event['at'][:19]}",
            highlight=False,
        )
        champion = doc["champion"]["version"] if doc["champion"] else "none"
        moved = " (changed)" if doc["champion_changed"] else ""
        out_console.print(f"champion of {v['group']}: {champion}{moved}", highlight=False)
        effects = doc.get("effects") or {}
        if effects.get("deployed"):
            d = effects["deployed"]
            out_console.print(
                f"deployed {d['version']} to {d['endpoint']} ({d['action']}); serve it with `lakeml serve`",
                highlight=False,
            )
        elif effects.get("reason"):
            out_console.print(effects["reason"], highlight=False)

    emit(outcome.to_json(), as_json, render)
    if outcome.effects.get("error"):
        if not want_json(as_json):
            err_console.print(f"[bold red]error:[/] {outcome.effects['error']}", highlight=False)
        raise typer.Exit(1)


@app.command("approve")
@handles_errors
def approve(
    version: str = VERSION_ARGUMENT,
    group: str = GROUP_OPTION,
    reason: str = typer.Option(..., "--reason", "-r", help="Why (kept in the approval history)."),
    by: str | None = typer.Option(None, "--by", help="Who decides (default: git user.email, else $USER)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve a version: it becomes the champion if it is the newest Approved one."""
    _decide(version, group, True, by, reason, as_json)


@app.command("reject")
@handles_errors
def reject(
    version: str = VERSION_ARGUMENT,
    group: str = GROUP_OPTION,
    reason: str = typer.Option(..., "--reason", "-r", help="Why (kept in the approval history)."),
    by: str | None = typer.Option(None, "--by", help="Who decides (default: git user.email, else $USER)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Reject a version; rejecting the champion hands the role back to the previous Approved version."""
    _decide(version, group, False, by, reason, as_json)


@app.command("rollback")
@handles_errors
def rollback(
    group: str = GROUP_OPTION,
    endpoint: str = typer.Option("lakeml-churn", help="Endpoint to roll back."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Serve the Approved version before the one serving now (the registry is unchanged)."""
    from ml_pipelines.serving.on_approval import rollback as roll_back

    ports = _ports()
    result = roll_back(ports.registry, ports.deployer, group, endpoint)
    emit(
        result,
        as_json,
        lambda doc: out_console.print(
            f"{doc['endpoint']}: {doc['rolled_back_from']} -> {doc['version']}", highlight=False
        ),
    )
