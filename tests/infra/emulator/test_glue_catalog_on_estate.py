"""The dbt runner's Glue Data Catalog calls against the estate's catalog (issue 13 §2).

dbt-glue reads and writes the catalog through boto3's default `glue` client, which lakeml points with
boto3's per-service endpoint variable (`AWS_ENDPOINT_URL_GLUE`, as `lakeml.transform.targets.glue` does
for the local twin). Here dbt-glue's own adapter code (`GlueAdapter.list_schemas`,
`check_schema_exists`, `list_relations_without_caching`, `get_relation`) runs against the databases the
glue module created. Its Spark side (CreateSession, RunStatement) is not emulated: moto has no Glue
interactive sessions, so the DDL `register_bronze` and the models send is out of reach (docs/infra.md
"Emulator check").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from lakeml.core import environ
from tests.infra.emulator.estate import Estate
from tests.infra.terraform_cli import REPO

pytestmark = pytest.mark.xdist_group("emulator")

TABLE = "customers"


class _Connections:
    """What dbt-glue's catalog methods read from the connection manager: the thread connection's
    handle and its credentials (region and role; no session is opened)."""

    def __init__(self, credentials: SimpleNamespace) -> None:
        self.handle = SimpleNamespace(credentials=credentials)

    def get_thread_connection(self) -> Any:
        return self


@pytest.fixture
def adapter(estate: Estate) -> Iterator[Any]:
    from dbt.adapters.glue.impl import GlueAdapter

    glue = GlueAdapter.__new__(GlueAdapter)  # the catalog methods need no dbt project or Spark session
    glue.connections = _Connections(  # type: ignore[assignment]
        SimpleNamespace(
            region=estate.region,
            role_arn=estate.stack["glue_role_arn"],
            use_interactive_session_role_for_api_calls=False,
            custom_iceberg_catalog_namespace=None,
        )
    )
    glue.config = SimpleNamespace(quoting={"database": False, "schema": False, "identifier": False})
    with environ.scoped({"AWS_ENDPOINT_URL_GLUE": estate.endpoint_url}):
        yield glue


@pytest.fixture
def silver_table(estate: Estate) -> Iterator[str]:
    """A table in the estate's silver database, as a dbt-glue model leaves it (managed, Parquet, under
    the database's location)."""
    glue = estate.client("glue")
    location = glue.get_database(Name="silver")["Database"]["LocationUri"].rstrip("/")
    glue.create_table(
        DatabaseName="silver",
        TableInput={
            "Name": TABLE,
            "TableType": "MANAGED_TABLE",
            "Parameters": {"spark.sql.sources.provider": "parquet"},
            "StorageDescriptor": {
                "Columns": [{"Name": "customer_id", "Type": "string"}],
                "Location": f"{location}/{TABLE}",
            },
        },
    )
    yield TABLE
    glue.delete_table(DatabaseName="silver", Name=TABLE)


def test_dbt_glue_sees_every_layer_database_of_the_estate(estate: Estate, adapter: Any) -> None:
    schemas = adapter.list_schemas("awsdatacatalog")
    assert set(estate.stack["glue_databases"].values()) <= set(schemas), schemas
    assert adapter.check_schema_exists("awsdatacatalog", "gold") is True
    assert adapter.check_schema_exists("awsdatacatalog", "no_such_layer") is False


def test_dbt_glue_finds_a_model_table_in_the_estate_catalog(adapter: Any, silver_table: str) -> None:
    schema = adapter.Relation.create(database="silver", schema="silver")
    listed = adapter.list_relations_without_caching(schema)
    assert [(r.schema, r.identifier, str(r.type)) for r in listed] == [("silver", silver_table, "table")]
    found = adapter.get_relation("silver", "silver", silver_table)
    assert found is not None and found.identifier == silver_table
    assert adapter.get_relation("silver", "silver", "not_built_yet") is None


def test_the_layer_databases_are_where_dbt_puts_its_schemas(estate: Estate) -> None:
    """dbt's on-run-start (`place_layer_schemas`) re-creates a layer database that is not where
    `lakeml_layer_locations()` says (or fails once it holds tables), so Terraform's databases must be
    there already, or the first dbt run and the next apply would undo each other."""
    macro = (REPO / "dbt_project" / "macros" / "lake_layout.sql").read_text()
    body = macro[macro.index("macro lakeml_layer_locations") :]
    layout = dict(re.findall(r"'(\w+)': lake ~ '([^']+)'", body[: body.index("endmacro")]))
    assert set(layout) == {"silver", "gold", "quarantine"}, layout
    lake = f"s3://{estate.stack['lake_bucket']}"
    glue = estate.client("glue")
    found = {
        schema: glue.get_database(Name=schema)["Database"]["LocationUri"].rstrip("/") for schema in layout
    }
    assert found == {schema: lake + suffix for schema, suffix in layout.items()}
