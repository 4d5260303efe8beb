"""`lakeml glue start|status|stop`: the local Glue twin of this LAKEML_HOME, by hand.

`lakeml transform --target glue` starts the twin by itself; these commands are for running plain dbt
against it (`start` prints the environment dbt-glue needs) and for stopping it before its idle timeout.
On AWS there is no twin: dbt-glue talks to AWS Glue, and these commands exit 2 saying so.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

import typer

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console
from lakeml.core.settings import Settings, load_settings
from lakeml.wiring import adapters

if TYPE_CHECKING:
    from lakeml.twins.glue.twin import GlueTwin

app = typer.Typer(no_args_is_help=True)


def _glue_settings() -> Settings:
    """This home's settings with the glue target (on AWS the wiring's `glue_twin` refuses, exit 2)."""
    settings = load_settings()
    return settings.model_copy(update={"transform": settings.transform.model_copy(update={"target": "glue"})})


def _twin(settings: Settings) -> GlueTwin:
    twin: GlueTwin = adapters(settings).glue_twin
    return twin


@app.command("start")
@handles_errors
def start(as_json: bool = JSON_OPTION) -> None:
    """Start (or reuse) this home's Glue twin and print the environment for plain `dbt … --target glue`."""
    settings = _glue_settings()
    ports = adapters(settings)
    server = ports.glue_twin.ensure_running()
    profile = ports.transform_target.profile()
    document = {
        "server": server.to_json(),
        "environment": dict(profile.environment),
        "vars": dict(profile.project_vars),
    }

    def render(doc: dict[str, Any]) -> None:
        out_console.print(
            f"# Glue twin on {doc['server']['url']} (pid {doc['server']['pid']})", highlight=False
        )
        for name, value in doc["environment"].items():
            out_console.print(f"export {name}={shlex.quote(str(value))}", highlight=False, soft_wrap=True)
        variables = " ".join(f"{k}: {v}" for k, v in doc["vars"].items())
        out_console.print(
            "# then: dbt build --project-dir dbt_project --profiles-dir profiles --target glue "
            f"--vars '{{{variables}}}'",
            highlight=False,
            soft_wrap=True,
        )

    emit(document, as_json, render)


@app.command("status")
@handles_errors
def status(as_json: bool = JSON_OPTION) -> None:
    """Whether this home's Glue twin runs, and where."""
    server = _twin(_glue_settings()).running()
    document = {"running": server is not None, "server": server.to_json() if server else None}
    emit(
        document,
        as_json,
        lambda doc: out_console.print(
            f"running on {doc['server']['url']} (pid {doc['server']['pid']})"
            if doc["running"]
            else "not running (`lakeml glue start` or `lakeml transform --target glue` starts it)",
            highlight=False,
        ),
    )


@app.command("stop")
@handles_errors
def stop(as_json: bool = JSON_OPTION) -> None:
    """Stop this home's Glue twin (its catalog and the lake stay on disk)."""
    server = _twin(_glue_settings()).stop()
    document = {"stopped": server is not None, "server": server.to_json() if server else None}
    emit(
        document,
        as_json,
        lambda doc: out_console.print("stopped" if doc["stopped"] else "no Glue twin was running"),
    )
