"""Entry point of `lakeml`. Stages register their sub-apps here; heavy imports stay inside commands."""

from __future__ import annotations

import typer

from lakeml.cli import config as config_cli
from lakeml.cli import deploy as deploy_cli
from lakeml.cli import flow as flow_cli
from lakeml.cli import glue as glue_cli
from lakeml.cli import ingest as ingest_cli
from lakeml.cli import lineage as lineage_cli
from lakeml.cli import metrics as metrics_cli
from lakeml.cli import models as models_cli
from lakeml.cli import notifications as notifications_cli
from lakeml.cli import pipeline as pipeline_cli
from lakeml.cli import run as run_cli
from lakeml.cli import score as score_cli
from lakeml.cli import serve as serve_cli
from lakeml.cli import source as source_cli
from lakeml.cli import studio as studio_cli
from lakeml.cli import transform as transform_cli
from lakeml.cli.output import state

app = typer.Typer(
    name="lakeml",
    help="ML-first data platform: Snowflake -> S3 lake (bronze/silver/gold) -> SageMaker. Local first.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    as_json: bool = typer.Option(
        False, "--json", help="Every command prints one JSON document on stdout (logs go to stderr)."
    ),
) -> None:
    """lakeml: run the whole pipeline on this machine, or point it at AWS with LAKEML_ENV=aws."""
    state.json = as_json


app.add_typer(source_cli.app, name="source", help="The Snowflake source: local server and churn data.")
app.add_typer(ingest_cli.app, name="ingest", help="Snowflake -> bronze, exactly once; `verify` audits it.")
app.add_typer(config_cli.app, name="config", help="Show the effective configuration.")
app.add_typer(
    metrics_cli.app, name="metrics", help="The metric catalog Terraform's dashboard and alarms read."
)
app.add_typer(models_cli.app, name="models", help="Model registry: list, show, approve, reject versions.")
app.add_typer(
    pipeline_cli.app,
    name="pipeline",
    help="SageMaker pipelines: definition, upsert/start/run on the wired runner, executions.",
)
app.command("serve", help="Serve the approved model locally (SageMaker's /ping + /invocations).")(
    serve_cli.serve
)
score_cli.register(app)
app.command("transform", help="dbt build: bronze -> silver -> gold, tests as gates.")(transform_cli.transform)
app.command("docs", help="Generate and serve the dbt docs site on 127.0.0.1.")(transform_cli.docs)
app.command("notifications", help="Recent notifications: flow failures, warnings, finished runs.")(
    notifications_cli.notifications
)
app.command("lineage", help="Where a model version came from: source windows to endpoints.")(
    lineage_cli.lineage
)
app.command("studio", help="The local studio: pipeline graphs, registry approvals, endpoint, data.")(
    studio_cli.studio
)
app.add_typer(flow_cli.app, name="flow", help="The daily flow: its Step Functions definition (ASL).")
app.add_typer(deploy_cli.app, name="deploy", help="Deploy an env; roll its endpoint or its infra back.")
app.add_typer(glue_cli.app, name="glue", help="The local Glue twin (dbt-glue locally): start, status, stop.")
app.command(
    "run", help="Run every stage end to end: source -> ingest -> transform -> quality -> train -> score."
)(run_cli.run)

if __name__ == "__main__":
    app()
