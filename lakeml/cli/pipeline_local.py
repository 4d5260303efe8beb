"""`lakeml pipeline run|executions|logs|graph`: the local runner's commands.

They are added to the `pipeline` sub-app (which also has `definition`, `upsert`, `start`) by
`register(app)`, so the runner's commands live beside the runner's code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.core.errors import UsageError
from lakeml.core.settings import Settings, load_settings


def summary(record: Any, folder: Path | None = None) -> dict[str, Any]:
    """The `--json` document of one execution."""
    return {
        "execution_id": record.execution_id,
        "status": record.status,
        "steps": [
            {
                "name": s.name,
                "type": s.type,
                "status": s.status,
                "seconds": s.seconds,
                **({"cache_hit": True} if s.cache_hit else {}),
            }
            for s in record.steps
        ],
        "registered": record.registered.model_dump() if record.registered else None,
        "failure_reason": record.failure_reason,
        "graph": str(folder / "graph.html") if folder else None,
    }


def parse_params(values: list[str]) -> dict[str, str]:
    overrides = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {value!r} is not K=V; e.g. --param MaxTuningJobs=4")
        overrides[key.strip()] = raw
    return overrides


def load_definition(settings: Settings, path: Path | None, batch: bool) -> dict[str, Any]:
    if path is not None:
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise UsageError(f"--definition {path}: {exc}") from None
    from ml_pipelines.pipeline import definition_for  # the one definition, built with the SageMaker SDK

    return definition_for(settings, batch=batch)


def run_local(
    settings: Settings, definition: dict[str, Any], overrides: dict[str, str], quiet: bool
) -> dict[str, Any]:
    """Run a definition locally with per-step progress; returns the execution record (+ graph page)."""
    from ml_pipelines.runner.definition import load
    from ml_pipelines.runner.engine import LocalRunner
    from ml_pipelines.runner.graph import write

    runner = LocalRunner(
        settings,
        load(definition),
        pipeline_name=definition.get("Metadata", {}).get("Name", "lakeml-churn-training")
        if isinstance(definition.get("Metadata"), dict)
        else "lakeml-churn-training",
    )

    def on_event(kind: str, step: Any) -> None:
        if quiet:
            return
        if kind == "started":
            err_console.print(f"[blue]▶[/] {step.name} ({step.type})", highlight=False)
        else:
            colour = "green" if step.status == "Succeeded" else "red"
            extra = " (cache hit)" if step.cache_hit else ""
            err_console.print(
                f"[{colour}]■[/] {step.name}: {step.status} in {step.seconds:.1f} s{extra}",
                highlight=False,
            )

    record = runner.run(overrides, on_event=on_event)
    folder = runner.store.folder(record.execution_id)
    write(record, folder / "graph.html")
    return summary(record, folder)


def _render_execution(doc: dict[str, Any]) -> None:
    table = Table(title=f"execution {doc['execution_id']}: {doc['status']}")
    for column in ("step", "type", "status", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for step in doc["steps"]:
        table.add_row(step["name"], step["type"], step["status"], f"{step['seconds'] or 0:.1f}")
    out_console.print(table)
    if doc.get("registered"):
        r = doc["registered"]
        out_console.print(f"registered {r['group']} version {r['version']} ({r['status']})")
    if doc.get("failure_reason"):
        out_console.print(f"[red]failure:[/] {doc['failure_reason']}", highlight=False)
    if doc.get("graph"):
        out_console.print(f"graph: {doc['graph']}")


def register(app: typer.Typer) -> None:
    @app.command("run")
    @handles_errors
    def run(
        local: bool = typer.Option(
            True, "--local/--aws", help="Run with the local runner (default) or on SageMaker."
        ),
        param: list[str] = typer.Option(
            [], "--param", help="Override a pipeline parameter: K=V (repeatable)."
        ),
        definition: Path | None = typer.Option(
            None, "--definition", help="Run this definition JSON instead of lakeml's."
        ),
        batch: bool = typer.Option(False, "--batch", help="Run the batch-scoring pipeline."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Execute the pipeline definition JSON locally: same JSON as SageMaker, no Docker, no AWS."""
        settings = load_settings()
        if not local:
            raise UsageError(
                "`lakeml pipeline run --aws` is `lakeml pipeline upsert` then `lakeml pipeline start`"
            )
        record = run_local(
            settings, load_definition(settings, definition, batch), parse_params(param), want_json(as_json)
        )
        emit(record, as_json, _render_execution)
        if record["status"] != "Succeeded":
            raise typer.Exit(1)

    @app.command("executions")
    @handles_errors
    def executions(as_json: bool = JSON_OPTION) -> None:
        """List local executions, newest first."""
        from ml_pipelines.runner.config import RunnerConfig
        from ml_pipelines.runner.records import ExecutionStore

        store = ExecutionStore(RunnerConfig.from_settings(load_settings()).pipelines_dir)
        rows = [
            {
                "execution_id": r.execution_id,
                "status": r.status,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "failure_reason": r.failure_reason,
                "registered": r.registered.model_dump() if r.registered else None,
            }
            for r in store.list()
        ]

        def render(doc: dict[str, Any]) -> None:
            table = Table(title="local pipeline executions")
            for column in ("execution_id", "status", "started_at", "registered / failure"):
                table.add_column(column)
            for r in doc["executions"]:
                note = (
                    f"{r['registered']['group']} v{r['registered']['version']}"
                    if r.get("registered")
                    else (r.get("failure_reason") or "")[:80]
                )
                table.add_row(r["execution_id"], r["status"], r["started_at"], note)
            out_console.print(table)

        emit({"executions": rows}, as_json, render)

    @app.command("logs")
    @handles_errors
    def logs(execution: str, step: str, as_json: bool = JSON_OPTION) -> None:
        """Print a step's job output (stdout and stderr) of a local execution."""
        from ml_pipelines.runner.config import RunnerConfig
        from ml_pipelines.runner.records import ExecutionStore

        record = ExecutionStore(RunnerConfig.from_settings(load_settings()).pipelines_dir).get(execution)
        entry = record.step(step)
        if entry is None:
            names = ", ".join(s.name for s in record.steps)
            raise UsageError(f"execution {execution} has no step {step!r}; its steps: {names}")
        paths = (
            [entry.log]
            if entry.log
            else sorted(str(p) for p in Path(entry.job_dir or "/nonexistent").glob("*/logs/output.log"))
        )
        text = "\n".join(Path(p).read_text() for p in paths if Path(p).is_file())
        document = {
            "execution_id": execution,
            "step": step,
            "logs": paths,
            "text": text,
            "failure_reason": entry.failure_reason,
        }
        emit(
            document,
            as_json,
            lambda doc: out_console.print(
                doc["text"] or "(no job output for this step)", highlight=False, markup=False
            ),
        )

    @app.command("graph")
    @handles_errors
    def graph(
        execution: str | None = typer.Option(None, "--execution", help="Execution id (default: the latest)."),
        output: Path | None = typer.Option(None, "--output", help="Where to write the HTML page."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Write a self-contained HTML page of the DAG coloured by step status, with timings and metrics."""
        from ml_pipelines.runner.config import RunnerConfig
        from ml_pipelines.runner.graph import write
        from ml_pipelines.runner.records import ExecutionStore

        store = ExecutionStore(RunnerConfig.from_settings(load_settings()).pipelines_dir)
        record = store.get(execution)
        path = write(record, output or store.folder(record.execution_id) / "graph.html")
        emit(
            {"execution_id": record.execution_id, "status": record.status, "path": str(path)},
            as_json,
            lambda doc: out_console.print(f"wrote {doc['path']} (open it in a browser)"),
        )
