"""`lakeml pipeline run|executions|logs|graph`: run a pipeline to its end, and look at local executions.

`run` publishes the definition and executes it through the pipeline runner port, on whichever runner
the wiring chose (the local runner, or SageMaker with LAKEML_ENV=aws), printing each step as it starts
and ends. `executions` lists them through the port too; `logs` and `graph` read the local runner's
execution records. They are added to
the `pipeline` sub-app (which also has `definition`, `upsert`, `start`) by `register(app)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters
from ml_pipelines.runner.port import PipelineRunner, StepCallback, StepStatus


def parse_params(values: list[str]) -> dict[str, str]:
    overrides = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {value!r} is not K=V; e.g. --param MaxTuningJobs=4")
        overrides[key.strip()] = raw
    return overrides


def read_definition(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--definition {path}: {exc}") from None


def check_where(pipelines: PipelineRunner, local: bool | None) -> None:
    """`--local` / `--aws` say where the user expects the run; the wiring (LAKEML_ENV) decides it."""
    if local is True and pipelines.remote:
        raise UsageError(
            "`--local` asks for the local runner, but LAKEML_ENV=aws wires SageMaker; "
            "unset LAKEML_ENV (or set it to local) to run on this machine"
        )
    if local is False and not pipelines.remote:
        raise UsageError(
            "`--aws` asks for SageMaker, but the local runner is wired; set LAKEML_ENV=aws "
            "(and the LAKEML_AWS__* names from infra's outputs)"
        )


def step_printer(quiet: bool) -> StepCallback | None:
    """Per-step progress on stderr (▶ started, ■ ended), or nothing when the output is JSON."""
    if quiet:
        return None

    def show(step: StepStatus) -> None:
        if not step.terminal:
            err_console.print(f"[blue]▶[/] {step.name} ({step.type or 'step'})", highlight=False)
            return
        colour = "green" if step.status == "Succeeded" else "red"
        seconds = f" in {step.seconds:.1f} s" if step.seconds is not None else ""
        extra = " (cache hit)" if step.cache_hit else ""
        err_console.print(f"[{colour}]■[/] {step.name}: {step.status}{seconds}{extra}", highlight=False)

    return show


def _render_execution(doc: dict[str, Any]) -> None:
    table = Table(title=f"execution {doc['execution_id']}: {doc['status']}")
    for column in ("step", "type", "status", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for step in doc["steps"]:
        table.add_row(step["name"], step["type"] or "", step["status"], f"{step['seconds'] or 0:.1f}")
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
        local: bool | None = typer.Option(
            None,
            "--local/--aws",
            help="Where you expect it to run; LAKEML_ENV decides (local runner, or SageMaker with aws).",
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
        """Upsert the pipeline, execute it and wait for its end: the same JSON locally and on SageMaker."""
        from ml_pipelines.lifecycle import execute, publish
        from ml_pipelines.pipeline import pipeline_name

        settings = load_settings()
        pipelines = adapters(settings).pipelines
        check_where(pipelines, local)
        overrides = parse_params(param)
        if definition is not None:
            document = read_definition(definition)
            metadata = document.get("Metadata")
            name = (metadata.get("Name") if isinstance(metadata, dict) else None) or pipeline_name(
                batch=batch
            )
            pipelines.upsert(
                name, document, description=f"lakeml pipeline run --definition {definition.name}"
            )
        else:
            name = publish(settings, pipelines, batch=batch).pipeline
        status = execute(pipelines, name, overrides, on_step=step_printer(want_json(as_json)))
        emit(status.document(), as_json, _render_execution)
        if status.status != "Succeeded":
            raise typer.Exit(1)

    @app.command("executions")
    @handles_errors
    def executions(
        pipeline: str | None = typer.Option(None, "--pipeline", help="Only this pipeline's executions."),
        limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many (default: all)."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """List pipeline executions, newest first (local records, or SageMaker's with LAKEML_ENV=aws)."""
        pipelines = adapters(load_settings()).pipelines
        rows = [
            {
                "execution_id": e.execution_id,
                "status": e.status,
                "started_at": e.started_at,
                "ended_at": e.ended_at,
                "failure_reason": e.failure_reason,
                "registered": e.registered.model_dump() if e.registered else None,
                **({"pipeline": e.pipeline} if pipelines.remote else {}),
            }
            for e in pipelines.executions(pipeline, limit=limit)
        ]

        def render(doc: dict[str, Any]) -> None:
            where = "SageMaker" if pipelines.remote else "local"
            table = Table(title=f"{where} pipeline executions")
            for column in ("execution_id", "status", "started_at", "registered / failure"):
                table.add_column(column)
            for r in doc["executions"]:
                note = (
                    f"{r['registered']['group']} v{r['registered']['version']}"
                    if r.get("registered")
                    else (r.get("failure_reason") or "")[:80]
                )
                table.add_row(r["execution_id"], r["status"], r["started_at"] or "", note)
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
