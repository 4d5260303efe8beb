"""`lakeml pipeline definition|upsert|start`: the pipeline definition and its lifecycle, through the port.

`definition` prints the JSON built by `ml_pipelines.pipeline` (the same JSON for AWS and the local
runner). `upsert` creates or updates the pipeline and `start` starts an execution on whichever pipeline
runner the wiring chose: SageMaker with LAKEML_ENV=aws, the local runner otherwise (where upsert stores
the definition under LAKEML_HOME and start runs it to its end). `run`, `executions`, `logs` and `graph`
are added from `lakeml.cli.pipeline_local`.
"""

from __future__ import annotations

import sys

import typer

from lakeml.cli import pipeline_local
from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console, want_json
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters

app = typer.Typer(
    no_args_is_help=True, help="The SageMaker pipelines: definition, upsert/start, runs (local or SageMaker)."
)

BATCH_OPTION = typer.Option(False, "--batch", help="The batch-scoring pipeline instead of the training one.")


@app.command("definition")
@handles_errors
def definition_cmd(batch: bool = BATCH_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Print the pipeline definition JSON (what `upsert` sends and `run` executes)."""
    from ml_pipelines.pipeline import definition_for, render

    document = definition_for(load_settings(), batch=batch)
    if want_json(as_json):
        emit(document, True)
    else:
        sys.stdout.write(render(document))


@app.command("upsert")
@handles_errors
def upsert_cmd(batch: bool = BATCH_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Create or update the pipeline: in SageMaker (LAKEML_ENV=aws), or stored for the local runner."""
    from ml_pipelines.lifecycle import publish

    settings = load_settings()
    result = publish(settings, adapters(settings).pipelines, batch=batch).model_dump()
    emit(result, as_json, lambda r: out_console.print(f"{r['action']} {r['pipeline']} ({r['arn']})"))


@app.command("start")
@handles_errors
def start_cmd(
    batch: bool = BATCH_OPTION,
    param: list[str] = typer.Option([], "--param", help="Pipeline parameter K=V (repeatable)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start an execution of the upserted pipeline (locally it runs to its end before this returns)."""
    from ml_pipelines.pipeline import pipeline_name

    pipelines = adapters(load_settings()).pipelines
    name = pipeline_name(batch=batch)
    params = pipeline_local.parse_params(param)
    execution = pipelines.start(name, params, on_step=pipeline_local.step_printer(want_json(as_json)))
    result = {
        "pipeline": name,
        "execution_arn": execution,
        "parameters": params,
        "status": pipelines.describe(execution).status,
    }
    emit(
        result,
        as_json,
        lambda r: out_console.print(f"started {r['pipeline']}: {r['execution_arn']} ({r['status']})"),
    )


pipeline_local.register(app)
