"""The local Glue twin called as dbt-glue calls it: boto3 clients with an endpoint (what
AWS_ENDPOINT_URL_GLUE gives dbt-glue), dbt-glue's own session code and session waiter, the Data Catalog
read through boto3's paginators. One twin (one Spark) for the module, started and stopped through its
lifecycle, in a home of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from lakeml.core import environ
from lakeml.core.settings import Settings, load_settings
from lakeml.twins.glue import lifecycle
from lakeml.twins.glue.api import OPERATIONS
from lakeml.twins.glue.lifecycle import GlueServer
from tests.conftest import CliResult, run_cli

pytestmark = [pytest.mark.xdist_group("glue-twin"), pytest.mark.timeout(600)]

BUCKET = "lakeml-lake"
SESSION_ARGS = {
    "Role": "arn:aws:iam::000000000000:role/lakeml-glue-twin",
    "Command": {"Name": "glueetl", "PythonVersion": "3"},
    "DefaultArguments": {
        "--enable-glue-datacatalog": "true",
        "--conf": "spark.sql.sources.partitionOverwriteMode=dynamic --conf spark.sql.session.timeZone=UTC",
    },
    "GlueVersion": "5.0",
    "NumberOfWorkers": 2,
    "WorkerType": "G.1X",
    "IdleTimeout": 15,
    "RequestOrigin": "dbt-glue",
}


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, GlueServer]]:
    base = tmp_path_factory.mktemp("glue-twin")
    (base / "lakeml.toml").write_text("# test config: defaults only\n")
    with environ.scoped({"LAKEML_HOME": str(base / "home"), "LAKEML_CONFIG": str(base / "lakeml.toml")}):
        settings = load_settings()
    server = lifecycle.ensure_running(settings)
    yield settings, server
    lifecycle.stop(settings)


def client(server: GlueServer, service: str = "glue") -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="eu-west-1",
        aws_access_key_id="lakeml-local",
        aws_secret_access_key="lakeml-local",
    )


def statement(glue: Any, session: str, code: str) -> dict[str, Any]:
    """RunStatement, then GetStatement until it is done (dbt-glue's GlueStatement.execute)."""
    from dbt.adapters.glue.gluedbapi.commons import GlueStatement

    return dict(GlueStatement(glue, session, code).execute()["Statement"])


def sql_proxy() -> str:
    """The code dbt-glue sends first to every session (SqlWrapper2, `from awsglue.utils import …`)."""
    from dbt.adapters.glue.gluedbapi.connection import SQLPROXY_BOTO_PREAMBLE_TEMPLATE, SQLPROXY_TEMPLATE

    preamble = SQLPROXY_BOTO_PREAMBLE_TEMPLATE.replace("${BOTO_RETRIES}", repr({"max_attempts": 3}))
    return SQLPROXY_TEMPLATE.replace("${BOTO_PREAMBLE}", preamble)


def sql(glue: Any, session: str, query: str) -> dict[str, Any]:
    """A query as dbt-glue's cursor sends it (GlueCursor.execute); its parsed result."""
    query = query + " " if query.endswith("'") else query
    done = statement(
        glue, session, f"SqlWrapper2.execute('''{query}''', use_arrow=False, location='s3://{BUCKET}')"
    )
    assert done["State"] == "AVAILABLE" and done["Output"]["Status"] == "ok", done
    text = done["Output"]["Data"]["TextPlain"].strip()
    try:
        return dict(json.loads(text))
    except ValueError:  # SqlWrapper2 prints a statement without columns twice; the cursor reads line 1
        return dict(json.loads(text.split("\n")[0]))


def test_a_session_runs_dbt_glues_code_in_the_twins_spark(twin: tuple[Settings, GlueServer]) -> None:
    from dbt.adapters.glue.util import get_session_waiter

    _, server = twin
    glue = client(server)
    created = glue.create_session(Id="dbt-glue", **SESSION_ARGS)["Session"]
    assert created["Id"] == "dbt-glue" and created["Status"] == "PROVISIONING"
    get_session_waiter(glue).wait(Id="dbt-glue")  # dbt-glue's own waiter: READY at the first poll
    session = glue.get_session(Id="dbt-glue")["Session"]
    assert session["Status"] == "READY" and session["GlueVersion"] == "5.0"

    proxy = statement(glue, "dbt-glue", sql_proxy())
    assert (proxy["State"], proxy["Output"]["Status"]) == ("AVAILABLE", "ok"), proxy
    result = sql(glue, "dbt-glue", "select 1 as one, 'a' as letter union all select 2, 'b'")
    assert result["rowcount"] == 2
    assert [r["data"] for r in result["results"]] == [{"one": 1, "letter": "a"}, {"one": 2, "letter": "b"}]
    assert result["description"] == [
        {"name": "one", "type": "IntegerType()"},
        {"name": "letter", "type": "StringType()"},
    ]
    # a statement's settings are the session's: the profile's --conf was applied
    assert sql(glue, "dbt-glue", "set spark.sql.sources.partitionOverwriteMode")["results"][0]["data"][
        "value"
    ] == ("dynamic")
    # a trailing expression is printed, as in a Glue notebook cell
    assert statement(glue, "dbt-glue", "x = 20\nx + 1")["Output"]["Data"]["TextPlain"] == "21\n"

    failed = statement(glue, "dbt-glue", "SqlWrapper2.execute('''select * from no_such_table''')")
    assert failed["State"] == "AVAILABLE" and failed["Output"]["Status"] == "error"
    assert failed["Output"]["ErrorName"] == "AnalysisException"
    assert "TABLE_OR_VIEW_NOT_FOUND" in failed["Output"]["ErrorValue"]  # what dbt-glue looks for
    listed = glue.list_statements(SessionId="dbt-glue")["Statements"]
    assert [s["Id"] for s in listed] == list(range(1, len(listed) + 1))
    glue.cancel_statement(SessionId="dbt-glue", Id=failed["Id"])  # a finished statement stays as it was
    assert glue.get_statement(SessionId="dbt-glue", Id=failed["Id"])["Statement"]["State"] == "AVAILABLE"


def test_the_data_catalog_is_the_sessions_spark_catalog_with_s3_locations(
    twin: tuple[Settings, GlueServer],
) -> None:
    settings, server = twin
    glue = client(server)
    glue.create_session(Id="catalog", **SESSION_ARGS)
    glue.create_database(DatabaseInput={"Name": "silver", "LocationUri": f"s3://{BUCKET}/silver/"})
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": "silver"})
    statement(glue, "catalog", sql_proxy())
    sql(
        glue,
        "catalog",
        "create table silver.orders using parquet partitioned by (month) as "
        "select cast(1 as bigint) as order_id, 12.5d as amount, '2025-01' as month",
    )
    sql(
        glue,
        "catalog",
        "create or replace view silver.big_orders as select * from silver.orders where amount > 10",
    )

    pages = glue.get_paginator("get_databases").paginate()
    databases = {d["Name"]: d for page in pages for d in page["DatabaseList"]}
    assert databases["silver"]["LocationUri"].rstrip("/") == f"s3://{BUCKET}/silver"
    pages = glue.get_paginator("get_tables").paginate(DatabaseName="silver")
    tables = {t["Name"]: t for page in pages for t in page["TableList"]}
    assert {n: t["TableType"] for n, t in tables.items()} == {
        "orders": "MANAGED_TABLE",
        "big_orders": "VIRTUAL_VIEW",
    }
    orders = glue.get_table(DatabaseName="silver", Name="orders")["Table"]
    assert orders["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/silver/orders"
    assert orders["StorageDescriptor"]["Columns"] == [
        {"Name": "order_id", "Type": "bigint"},
        {"Name": "amount", "Type": "double"},
    ]
    assert orders["PartitionKeys"] == [{"Name": "month", "Type": "string"}]
    assert orders["Parameters"]["spark.sql.sources.provider"] == "parquet"
    # the S3 location is the local lake folder: Spark wrote it there
    assert list((settings.lake_dir / "silver" / "orders" / "month=2025-01").glob("*.parquet"))
    # the table is readable by its S3 URI too (statements are mapped like the catalog)
    read = sql(glue, "catalog", f"select count(*) as n from parquet.`s3://{BUCKET}/silver/orders`")
    assert read["results"][0]["data"]["n"] == 1

    glue.update_table(
        DatabaseName="silver", TableInput={"Name": "orders", "Parameters": {"lakeml.owner": "transform"}}
    )
    assert (
        glue.get_table(DatabaseName="silver", Name="orders")["Table"]["Parameters"]["lakeml.owner"]
        == "transform"
    )
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName="silver", Name="no_such_table")
    glue.delete_database(Name="silver")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_tables(DatabaseName="silver")


def test_sessions_stop_and_are_deleted(twin: tuple[Settings, GlueServer]) -> None:
    _, server = twin
    glue = client(server)
    glue.create_session(Id="short", **SESSION_ARGS)
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.create_session(Id="short", **SESSION_ARGS)
    assert "short" in glue.list_sessions()["Ids"]
    glue.stop_session(Id="short")
    assert glue.get_session(Id="short")["Session"]["Status"] == "STOPPED"
    with pytest.raises(glue.exceptions.IllegalSessionStateException):
        glue.run_statement(SessionId="short", Code="1")
    glue.delete_session(Id="short", RequestOrigin="dbt-glue-lakeml")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_session(Id="short")


def test_the_calls_beside_glue_when_dbt_glue_creates_a_schema(twin: tuple[Settings, GlueServer]) -> None:
    _, server = twin
    assert client(server, "sts").get_caller_identity()["Account"] == "000000000000"
    granted = client(server, "lakeformation").batch_grant_permissions(CatalogId="000000000000", Entries=[])
    assert granted["Failures"] == []


def test_every_glue_call_of_the_installed_dbt_glue_is_answered() -> None:
    """The adapter's Glue calls, read from its source, are the twin's operations (a new dbt-glue that
    calls more fails here, not in the middle of a build)."""
    import re

    import dbt.adapters.glue as adapter

    def snake(name: str) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

    source = "\n".join(p.read_text() for p in Path(adapter.__file__).parent.rglob("*.py"))
    called = {m.group(1) for m in re.finditer(r"(?<!self)\.([a-z_]+)\(", source)}  # not its own methods
    called |= {m.group(1) for m in re.finditer(r"get_paginator\('([a-z_]+)'\)", source)}
    glue_operations = {
        snake(op) for op in boto3.client("glue", region_name="eu-west-1").meta.service_model.operation_names
    }
    glue_calls = called & glue_operations
    assert {"create_session", "run_statement", "get_statement", "get_tables", "get_table"} <= glue_calls
    assert glue_calls <= {snake(op) for op in OPERATIONS}, glue_calls - {snake(op) for op in OPERATIONS}


def _cli(settings: Settings, *args: str, **env: str) -> CliResult:
    """`lakeml` in-process, in the twin's home."""
    home = {"LAKEML_HOME": str(settings.home), "LAKEML_CONFIG": str(settings.home.parent / "lakeml.toml")}
    return run_cli(args, {**home, **env})


def test_lakeml_glue_start_reuses_the_homes_twin_and_prints_dbts_environment(
    twin: tuple[Settings, GlueServer],
) -> None:
    settings, server = twin
    status = _cli(settings, "--json", "glue", "status")
    assert status.code == 0 and status.json["running"] and status.json["server"]["pid"] == server.pid, status
    started = _cli(settings, "--json", "glue", "start")
    assert started.code == 0, started
    assert started.json["server"]["pid"] == server.pid  # reused, not a second Spark
    assert started.json["environment"]["AWS_ENDPOINT_URL_GLUE"] == server.url
    assert started.json["vars"] == {"lake_root": f"s3://{BUCKET}"}
    human = _cli(settings, "glue", "start")
    assert f"export AWS_ENDPOINT_URL_GLUE={server.url}" in human.stdout and "--target glue" in human.stdout

    on_aws = _cli(settings, "--json", "glue", "status", LAKEML_ENV="aws")
    assert on_aws.code == 2 and "LAKEML_ENV=local" in on_aws.stderr, on_aws


def test_the_twin_is_reused_per_home_and_stops(twin: tuple[Settings, GlueServer]) -> None:
    settings, server = twin
    assert lifecycle.ensure_running(settings) == server  # no second Spark for the same home
    assert lifecycle.running(settings) == server
    stopped = _cli(settings, "--json", "glue", "stop")  # `lakeml glue stop` stops it
    assert stopped.code == 0 and stopped.json["stopped"] and stopped.json["server"]["pid"] == server.pid
    assert lifecycle.running(settings) is None
    assert lifecycle.stop(settings) is None
    again = _cli(settings, "--json", "glue", "stop")
    assert again.code == 0 and again.json == {"stopped": False, "server": None}
    assert _cli(settings, "--json", "glue", "status").json["running"] is False
