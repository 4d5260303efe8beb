"""The runtimes whose AWS calls the least-privilege check records, each as the role that runs it in AWS.

The role is read from the applied state, not assumed: a Lambda's `role`, the SageMaker pipelines'
execution role (`sagemaker_execution_role_arn`), the approver role; the state machine's and the
scheduler's calls are derived from the applied definition and schedule (`flow`). Each runtime gets the
settings it gets in AWS: a Lambda its function's environment from the state, a SageMaker job the stack's
`lakeml_env` output, with LAKEML_AWS__ENDPOINT_URL pointing at the recording proxy in front of moto.
`setup` runs with the emulator's admin credentials (what Terraform, a person or another runtime did
before), `run` as the role.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.infra.emulator.estate import Estate
from tests.infra.emulator.iam.recorder import Call, RecordingProxy

EVENTS = Path(__file__).resolve().parents[3] / "fixtures" / "events"
GROUP = "lakeml-churn"
ARTEFACT_KEY = "ml/models/least-privilege/v1/model.tar.gz"


@dataclass
class World:
    estate: Estate
    proxy: RecordingProxy
    home: Path
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def stack(self) -> dict[str, Any]:
        return self.estate.stack

    def resource_values(self, type_: str, **match: str) -> dict[str, Any]:
        found = [
            r["values"]
            for r in self.estate.resources(type_)
            if all(str(r["values"].get(k, "")).endswith(v) for k, v in match.items())
        ]
        if len(found) != 1:
            raise LookupError(f"{type_} {match}: {len(found)} in the applied state")
        return dict(found[0])


@dataclass(frozen=True)
class Runtime:
    name: str
    role: Callable[[World], str | None]  # the role's ARN; None: the env has no such role
    run: Callable[[World], None] | None = None
    setup: Callable[[World], None] | None = None
    derived: Callable[[World], list[Call]] | None = None  # calls AWS makes as the role (not run here)


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def event(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass
class LambdaContext:
    function_name: str = "lakeml-least-privilege"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-least-privilege"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "6f9a2c1e-0000-4000-8000-00000000c0de"
    log_group_name: str = "/aws/lambda/lakeml-least-privilege"
    log_stream_name: str = "2026/12/03/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@contextlib.contextmanager
def settings_env(world: World, values: dict[str, str]) -> Iterator[None]:
    """Exactly `values` as the LAKEML_* environment (others removed), lakeml's home in the test's folder
    and the endpoint on the recording proxy."""
    config = world.home / "lakeml.toml"
    if not config.exists():
        config.write_text("# least-privilege runtimes: settings from the environment only\n")
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith("LAKEML_") and not n.startswith("LAKEML_TEST_")]:
            env.delenv(name)
        for name, value in values.items():
            env.setenv(name, str(value))
        env.setenv("LAKEML_HOME", str(world.home / "home"))
        env.setenv("LAKEML_CONFIG", str(config))
        env.setenv("LAKEML_AWS__ENDPOINT_URL", world.proxy.url)
        env.setenv("POWERTOOLS_TRACE_DISABLED", "1")
        yield


def function(world: World, name: str) -> dict[str, Any]:
    return world.resource_values("aws_lambda_function", function_name=f"-{name}")


def lambda_role(name: str) -> Callable[[World], str]:
    return lambda world: str(function(world, name)["role"])


@contextlib.contextmanager
def lambda_env(world: World, name: str, **extra: str) -> Iterator[None]:
    (environment,) = function(world, name)["environment"]
    with settings_env(world, {**environment["variables"], **extra}):
        yield


def execution_role(world: World) -> str:
    return str(world.stack["sagemaker_execution_role_arn"])


@contextlib.contextmanager
def job_env(world: World) -> Iterator[None]:
    opt_ml = world.home / "opt_ml"
    with settings_env(world, {**world.stack["lakeml_env"], "LAKEML_CONTAINER__OPT_ML": str(opt_ml)}):
        yield


# ----------------------------------------------------------------------------------------- ingestion

SOURCES = """defaults:
  lag_seconds: 0
tables:
  PRODUCTS: {object: RETAIL.RAW.PRODUCTS}
  ORDERS: {object: RETAIL.RAW.ORDERS}
"""


def setup_ingestion(world: World) -> None:
    """A seeded local Snowflake (fakesnow server) whose credentials are put into the estate's secret, as
    an operator does once (docs/infra.md)."""
    from lakeml.core.settings import Settings
    from lakeml.twins.snowflake import server
    from lakeml.twins.snowflake.connection import connect
    from lakeml.twins.snowflake.generator import SeedConfig, seed

    local = Settings(home=world.home / "snowflake")
    info = server.ensure_running(local)
    world.facts["snowflake"] = local
    conn = connect(local)
    try:
        seed(conn, SeedConfig(customers=40, days=5))
    finally:
        conn.close()
    secret = {
        "account": "lakeml_local",
        "user": "lakeml",
        "password": "least-privilege",
        "host": info.host,
        "port": info.port,
        "protocol": "http",
        "database": "RETAIL",
        "schema": "RAW",
    }
    world.estate.client("secretsmanager").put_secret_value(
        SecretId=world.stack["source_secret_arn"], SecretString=json.dumps(secret)
    )
    (world.home / "sources.yml").write_text(SOURCES)


def run_ingestion(world: World) -> None:
    from lakeml.handlers import ingest

    with lambda_env(world, "ingestion", LAKEML_INGEST__SOURCES=str(world.home / "sources.yml")):
        report = ingest.handler({}, LambdaContext())
    assert all(run["status"] in ("landed", "up_to_date") for run in report["runs"]), report


def cleanup(world: World) -> None:
    """Stop the local Snowflake; remove what the runtimes made that Terraform does not own (model
    versions keep the group from being destroyed; endpoints, endpoint configs and models)."""
    from ingestion.source.kept import close_kept
    from lakeml.twins.snowflake import server

    close_kept()
    if "snowflake" in world.facts:
        server.stop(world.facts["snowflake"])
    sm = world.estate.client("sagemaker")
    for endpoint in sm.list_endpoints()["Endpoints"]:
        sm.delete_endpoint(EndpointName=endpoint["EndpointName"])
    for config in sm.list_endpoint_configs()["EndpointConfigs"]:
        sm.delete_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
    for model in sm.list_models()["Models"]:
        sm.delete_model(ModelName=model["ModelName"])
    # Every version and delete marker the runtimes left in the (versioned) lake, by version id: Terraform's
    # force_destroy suspends versioning first, and moto 5.2.5 then fails on a key holding a delete marker
    # ('FakeDeleteMarker' has no 'dispose').
    s3 = world.estate.client("s3")
    bucket = world.stack["lake_bucket"]
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    # moto 5.2.5 has no DeleteModelPackage: the versions are dropped from its (in-process) backend.
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[world.estate.account_id][world.estate.region]
    group = world.stack["model_package_group"]
    for arn, package in list(backend.model_packages.items()):
        if package.model_package_group_name == group:
            del backend.model_packages[arn]


# -------------------------------------------------------------------------------- notify and quality


def run_notify(world: World) -> None:
    from lakeml.handlers import notify

    with lambda_env(world, "notify"):
        notify.handler(event("notify_notification"), LambdaContext())
        notify.handler(event("notify_pipeline_failed"), LambdaContext())


def run_quality(world: World) -> None:
    """The check breaches here (two of the five tables ingested, no dbt run yet) and says so by raising,
    as in the flow; the report is written first, which is what the role's grants are for."""
    from lakeml.handlers import quality
    from lakeml.monitor import QualityThresholdExceeded

    with lambda_env(world, "quality"), contextlib.suppress(QualityThresholdExceeded):
        quality.handler(event("quality_input"), LambdaContext())


# ------------------------------------------------------------------------------------ ML: jobs, registry


def setup_features(world: World) -> None:
    from tests.ml_pipelines import synthetic

    gold = world.home / "gold"
    synthetic.write_gold(gold, customers=12, snapshots=14)
    world.facts["features"] = gold / "customer_features"


def run_ingest_features(world: World) -> None:
    from lakeml.core.settings import load_settings
    from lakeml.jobs import ingest_features
    from lakeml.jobs.runtime import Job
    from ml_pipelines.steps.container import Container

    with job_env(world):
        settings = load_settings()
        job = Job(settings, Container.from_settings(settings))
        output = world.home / "ingest-report"
        argv = [
            "--input",
            str(world.facts["features"]),
            "--output",
            str(output),
            "--feature-group",
            world.stack["feature_group"],
        ]
        assert ingest_features.main(job, argv) == 0


def setup_registry(world: World) -> None:
    """The model artefact a training job leaves under ml/ (SageMaker writes it as the execution role)."""
    world.estate.client("s3").put_object(Bucket=world.stack["lake_bucket"], Key=ARTEFACT_KEY, Body=b"model")


def run_register(world: World) -> None:
    """The pipeline's RegisterModel step: a version of the group, PendingManualApproval."""
    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    with job_env(world):
        registry = adapters(load_settings()).registry
        version = registry.register(
            world.stack["model_package_group"],
            model_data_url=f"s3://{world.stack['lake_bucket']}/{ARTEFACT_KEY}",
            image_uri=world.stack["lakeml_env"]["LAKEML_AWS__IMAGE_URI"],
            metrics={"auc": 0.81},
            metadata={"git_sha": "least-privilege"},
        )
    world.facts["version"] = version


def approver_role(world: World) -> str | None:
    """Only when approver principals are configured (a dev env without them has no approver role)."""
    arn = world.stack.get("model_approver_role_arn")
    return str(arn) if arn else None


def run_approve(world: World) -> None:
    """`lakeml models list`, then `lakeml models approve`, as a person holding the approver role."""
    from typer.testing import CliRunner

    from lakeml.cli.main import app

    version = world.facts["version"]
    with job_env(world):
        listed = CliRunner().invoke(app, ["--json", "models", "list"])  # what a reviewer looks at first
        assert listed.exit_code == 0, listed.output
        result = CliRunner().invoke(
            app,
            [
                "--json",
                "models",
                "approve",
                str(version.version),
                "--group",
                version.group,
                "--reason",
                "least-privilege check",
                "--by",
                "reviewer@example.com",
            ],
        )
    assert result.exit_code == 0, result.output
    world.facts["approved"] = True


def setup_on_approval(world: World) -> None:
    """The version is approved (by `lakeml models approve` above when the env has an approver role, else
    here, as a person with console access would)."""
    if not world.facts.get("approved"):
        world.estate.client("sagemaker").update_model_package(
            ModelPackageArn=world.facts["version"].arn, ModelApprovalStatus="Approved"
        )
        world.facts["approved"] = True


def run_on_approval(world: World) -> None:
    from lakeml.handlers import on_approval

    version = world.facts["version"]
    approved = event("model_package_approved")
    approved["detail"].update(
        ModelPackageGroupName=version.group, ModelPackageVersion=version.version, ModelPackageArn=version.arn
    )
    approved["resources"] = [version.arn]
    with lambda_env(world, "on-approval"):
        outcome = on_approval.handler(approved, LambdaContext())
        again = on_approval.handler(approved, LambdaContext())  # EventBridge may deliver twice
    assert outcome.get("deployed") and not again.get("deployed"), (outcome, again)


def run_deploy_staging(world: World) -> None:
    from lakeml.handlers import deploy_staging

    version = world.facts["version"]
    with lambda_env(world, "deploy-staging"):
        result = deploy_staging.handler(
            {"model_package_arn": version.arn, "endpoint_name": "lakeml-churn-staging"}
        )
    assert result["status"], result


# ----------------------------------------------------------------------------------------- transform


def task_definition(world: World) -> dict[str, Any]:
    return world.resource_values("aws_ecs_task_definition", family="-dbt")


def task_role(world: World) -> str:
    return str(task_definition(world)["task_role_arn"])


def run_transform_lake_writes(world: World) -> None:
    """What `lakeml transform` itself writes to the lake around the dbt-glue build (the build runs in a
    Glue session): the bronze visibility index, then dbt's run results and latest.json."""
    from ingestion.visibility import publish_visibility
    from lakeml.core.settings import load_settings
    from lakeml.transform.runs import publish_run_results
    from lakeml.wiring import adapters

    (container,) = json.loads(task_definition(world)["container_definitions"])
    variables = {item["name"]: item["value"] for item in container["environment"]}
    results = world.home / "dbt-target"
    results.mkdir(exist_ok=True)
    metadata = {"invocation_id": "least-privilege-0001", "generated_at": "2026-12-03T00:00:00Z"}
    (results / "run_results.json").write_text(json.dumps({"metadata": metadata, "results": []}))
    with settings_env(world, variables):
        lake = adapters(load_settings()).lake
        publish_visibility(lake)
        assert publish_run_results(lake, results, target="glue", success=True, bronze_runs={}) is not None


def run_dbt_glue_catalog(world: World) -> None:
    """dbt-glue's own catalog reads (`GlueAdapter.list_schemas`, `check_schema_exists`,
    `list_relations_without_caching`, `get_relation`), which it makes from the task through boto3's
    default `glue` client (its Spark side runs in the Glue session, out of reach: no Glue sessions)."""
    from types import SimpleNamespace

    from dbt.adapters.glue.impl import GlueAdapter

    credentials = SimpleNamespace(
        region=world.estate.region,
        role_arn=world.stack["glue_role_arn"],
        use_interactive_session_role_for_api_calls=False,
        custom_iceberg_catalog_namespace=None,
    )
    connection = SimpleNamespace(handle=SimpleNamespace(credentials=credentials))
    adapter = GlueAdapter.__new__(GlueAdapter)  # the catalog methods need no project or session
    adapter.connections = SimpleNamespace(get_thread_connection=lambda: connection)  # type: ignore[assignment]
    adapter.config = SimpleNamespace(quoting={"database": False, "schema": False, "identifier": False})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL_GLUE", world.proxy.url)
        assert "gold" in adapter.list_schemas("awsdatacatalog")
        assert adapter.check_schema_exists("awsdatacatalog", "silver")
        adapter.list_relations_without_caching(adapter.Relation.create(database="silver", schema="silver"))
        assert adapter.get_relation("silver", "silver", "not_built_yet") is None


# ------------------------------------------------------------------------- state machine and schedule


def flow_role(world: World) -> str:
    return str(world.resource_values("aws_sfn_state_machine", name="-daily-flow")["role_arn"])


def scheduler_role(world: World) -> str:
    (target,) = world.resource_values("aws_scheduler_schedule", name="-daily-flow")["target"]
    return str(target["role_arn"])


def scheduled_calls(world: World) -> list[Call]:
    (target,) = world.resource_values("aws_scheduler_schedule", name="-daily-flow")["target"]
    return [
        Call(
            "states",
            "StartExecution",
            {"stateMachineArn": target["arn"]},
            world.estate.region,
            via="schedule",
        )
    ]


def flow_calls(world: World) -> list[Call]:
    """What Step Functions calls as the flow role: every Task state of the applied definition (all
    branches, not one execution's path), with `.sync`'s implied calls."""
    machine = world.resource_values("aws_sfn_state_machine", name="-daily-flow")
    from tests.infra.emulator.iam.asl import task_calls

    task = world.resource_values("aws_ecs_task_definition", family="-dbt")
    passed = [task["task_role_arn"], task["execution_role_arn"]]
    return task_calls(json.loads(machine["definition"]), world.estate.region, world.estate.account_id, passed)


RUNTIMES: tuple[Runtime, ...] = (
    Runtime("ingestion handler", lambda_role("ingestion"), run_ingestion, setup_ingestion),
    Runtime("notify handler", lambda_role("notify"), run_notify),
    Runtime("quality handler", lambda_role("quality"), run_quality),
    Runtime("feature ingestion job", execution_role, run_ingest_features, setup_features),
    Runtime("registry: RegisterModel", execution_role, run_register, setup_registry),
    Runtime("lakeml models list + approve", approver_role, run_approve),
    Runtime("on-approval handler", lambda_role("on-approval"), run_on_approval, setup_on_approval),
    Runtime("deploy-staging handler", lambda_role("deploy-staging"), run_deploy_staging),
    Runtime("transform: lake writes", task_role, run_transform_lake_writes),
    Runtime("transform: dbt-glue catalog reads", task_role, run_dbt_glue_catalog),
    Runtime("daily flow (state machine)", flow_role, derived=flow_calls),
    Runtime("daily flow schedule", scheduler_role, derived=scheduled_calls),
)
