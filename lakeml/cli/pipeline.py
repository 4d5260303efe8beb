"""`lakeml pipeline definition|upsert|start`: the SageMaker pipeline definition and its AWS lifecycle.

`definition` prints the JSON built by `ml_pipelines.pipeline` (the same JSON for AWS and the local
runner). `upsert` creates or updates the pipeline in SageMaker and `start` starts an execution — both for
`LAKEML_ENV=aws`, with plain boto3 and the caller's credentials. The local runner's commands
(`run`, `executions`, `logs`, `graph`) are added from `lakeml.cli.pipeline_local`.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from lakeml.cli import pipeline_local
from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console, want_json
from lakeml.core.errors import ConfigError, LakemlError, UsageError
from lakeml.core.settings import Settings, load_settings

app = typer.Typer(
    no_args_is_help=True, help="The SageMaker pipelines: definition, upsert/start on AWS, local runs."
)

BATCH_OPTION = typer.Option(False, "--batch", help="The batch-scoring pipeline instead of the training one.")


def _require_aws(settings: Settings, command: str) -> None:
    if settings.env != "aws":
        raise UsageError(
            f"`lakeml pipeline {command}` talks to SageMaker; set LAKEML_ENV=aws "
            "(locally use `lakeml pipeline run --local`)"
        )


def _client(settings: Settings) -> Any:
    import boto3

    return boto3.client("sagemaker", region_name=settings.aws.region, endpoint_url=settings.aws.endpoint_url)


def upsert(settings: Settings, *, batch: bool = False) -> dict[str, Any]:
    """Create the pipeline, or update it when it exists; returns name, ARN and what was done."""
    import json

    from botocore.exceptions import ClientError

    from ml_pipelines.pipeline import BATCH_PIPELINE, TRAINING_PIPELINE, Target, definition

    target = Target.from_settings(settings)
    missing = target.placeholders()
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} not set: the definition would name placeholder AWS resources. Set them "
            "(or LAKEML_AWS__ACCOUNT_ID for the default names) from infra's outputs before `upsert`"
        )
    name = BATCH_PIPELINE if batch else TRAINING_PIPELINE
    body = json.dumps(definition(target, batch=batch))
    client = _client(settings)
    fields = {
        "PipelineName": name,
        "PipelineDefinition": body,
        "RoleArn": target.role_arn,
        "PipelineDescription": "lakeml churn " + ("batch scoring" if batch else "training"),
    }
    try:
        client.describe_pipeline(PipelineName=name)
        exists = True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("ResourceNotFound", "ValidationException"):
            raise LakemlError(f"cannot look up pipeline {name}: {exc}") from None
        exists = False
    try:
        response = client.update_pipeline(**fields) if exists else client.create_pipeline(**fields)
    except ClientError as exc:
        raise LakemlError(f"{'update' if exists else 'create'} of pipeline {name} failed: {exc}") from None
    return {
        "pipeline": name,
        "arn": response["PipelineArn"],
        "action": "updated" if exists else "created",
        "definition_bytes": len(body),
    }


def start(settings: Settings, *, batch: bool = False, params: dict[str, str] | None = None) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    from ml_pipelines.pipeline import BATCH_PIPELINE, TRAINING_PIPELINE

    name = BATCH_PIPELINE if batch else TRAINING_PIPELINE
    request: dict[str, Any] = {"PipelineName": name}
    if params:
        request["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in params.items()]
    try:
        response = _client(settings).start_pipeline_execution(**request)
    except ClientError as exc:
        raise LakemlError(
            f"cannot start pipeline {name}: {exc}; run `lakeml pipeline upsert` first?"
        ) from None
    return {"pipeline": name, "execution_arn": response["PipelineExecutionArn"], "parameters": params or {}}


@app.command("definition")
@handles_errors
def definition_cmd(batch: bool = BATCH_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Print the pipeline definition JSON (what `upsert` sends and `run --local` executes)."""
    from ml_pipelines.pipeline import definition_for, render

    document = definition_for(load_settings(), batch=batch)
    if want_json(as_json):
        emit(document, True)
    else:
        sys.stdout.write(render(document))


@app.command("upsert")
@handles_errors
def upsert_cmd(batch: bool = BATCH_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Create or update the pipeline in SageMaker (LAKEML_ENV=aws)."""
    settings = load_settings()
    _require_aws(settings, "upsert")
    result = upsert(settings, batch=batch)
    emit(result, as_json, lambda r: out_console.print(f"{r['action']} {r['pipeline']} ({r['arn']})"))


@app.command("start")
@handles_errors
def start_cmd(
    batch: bool = BATCH_OPTION,
    param: list[str] = typer.Option([], "--param", help="Pipeline parameter K=V (repeatable)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start an execution of the pipeline in SageMaker (LAKEML_ENV=aws)."""
    settings = load_settings()
    _require_aws(settings, "start")
    result = start(settings, batch=batch, params=pipeline_local.parse_params(param))
    emit(result, as_json, lambda r: out_console.print(f"started {r['pipeline']}: {r['execution_arn']}"))


pipeline_local.register(app)
