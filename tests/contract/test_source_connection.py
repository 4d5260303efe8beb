"""The source-connection contract, run against both adapters through the real connector:

- local: the fakesnow twin, credentials from settings, host/port from the twin's server;
- aws: credentials (and host/port, pointed at the same fakesnow server) from a Secrets Manager secret on
  a moto server, as a deployed Lambda reads them.

Both keep one connection per process: reused while healthy, re-opened when closed, stale or opened for
other settings; credentials never logged; a missing object is the clear SourceObjectMissing error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingestion.config import TableConfig
from ingestion.extract import max_cursor
from ingestion.secrets.secrets_manager import SecretsManagerSecrets
from ingestion.source import kept
from ingestion.source.aws import SnowflakeSourceConnector
from ingestion.source.local import LocalSourceConnector
from ingestion.source.port import SourceConnector, SourceObjectMissing, reading_object
from lakeml.core.settings import Settings
from lakeml.twins.snowflake import server
from tests.contract.aws_emulator import REGION, create_secret

pytestmark = pytest.mark.xdist_group("source-connection")

CANARY = "canary-source-Pw-3b8f01"  # the password in both adapters' credentials: never in a log

Make = Callable[..., SourceConnector]


@dataclass(frozen=True)
class Twin:
    settings: Settings

    def endpoint(self) -> server.ServerInfo:
        return server.ensure_running(self.settings)


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """One fakesnow server for the module, with an (empty) extraction schema to query."""
    local = Settings(home=tmp_path_factory.mktemp("source-home"), source={"password": CANARY})
    twin = Twin(local)
    connector = LocalSourceConnector(local, twin.endpoint)
    with connector.connection().cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS RETAIL")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS RETAIL.EXTRACT")
    yield twin
    kept.close_kept()
    server.stop(local)


@pytest.fixture(params=["local", "aws"])
def make(request: pytest.FixtureRequest, twin: Twin, tmp_path: Path) -> Make:
    """A factory of the adapter under test; `role=` gives one opened for other settings."""
    if request.param == "local":

        def local(role: str | None = None) -> SourceConnector:
            settings = twin.settings.model_copy(
                update={"source": twin.settings.source.model_copy(update={"role": role})}
            )
            return LocalSourceConnector(settings, twin.endpoint)

        return local
    endpoint = request.getfixturevalue("aws_endpoint")
    info = twin.endpoint()
    secret_id = f"lakeml/snowflake/{uuid.uuid4().hex[:10]}"
    create_secret(
        endpoint,
        secret_id,
        {
            "account": "lakeml_local",
            "user": "lakeml",
            "password": CANARY,
            "host": info.host,
            "port": info.port,
            "protocol": "http",
        },
    )

    def aws(role: str | None = None) -> SourceConnector:
        settings = Settings(
            env="aws",
            home=tmp_path,
            source={"secret_id": secret_id, "role": role},
            aws={"region": REGION, "endpoint_url": endpoint},
        )
        return SnowflakeSourceConnector(settings, SecretsManagerSecrets(settings))

    return aws


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    kept.close_kept()
    yield
    kept.close_kept()


def answers(conn: Any) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchall() == [(1,)]


def test_connects_through_the_real_connector_and_runs_a_query(make: Make) -> None:
    from snowflake.connector import SnowflakeConnection

    connection = make().connection()
    assert isinstance(connection, SnowflakeConnection) and answers(connection)


def test_a_healthy_connection_is_reused(make: Make) -> None:
    first = make().connection()
    assert make().connection() is first  # a new adapter (a new invocation) finds the kept connection


def test_a_connection_the_connector_reports_closed_is_replaced(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`is_closed()` is stubbed because fakesnow sessions have no master token: the connector's logout
    fails there and it keeps reporting the connection open (against Snowflake, close() closes)."""
    source = make()
    first = source.connection()
    monkeypatch.setattr(first, "is_closed", lambda: True)
    second = source.connection()
    assert second is not first and answers(second)


def test_close_then_connection_opens_a_new_one(make: Make) -> None:
    source = make()
    first = source.connection()
    source.close()
    second = source.connection()
    assert second is not first and answers(second)


def test_an_idle_connection_that_passes_the_health_check_is_kept(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make()
    first = source.connection()
    monkeypatch.setattr(kept, "IDLE_CHECK_AFTER_S", 0.0)  # every reuse counts as "after idling"
    assert source.connection() is first


def test_a_connection_for_other_settings_is_not_reused(make: Make) -> None:
    first = make().connection()
    other = make(role="OTHER")
    second = other.connection()
    assert second is not first and answers(second)
    assert other.connection() is second  # the kept one is now the new one


def test_a_missing_object_is_a_clear_error_naming_the_table_and_the_fix(make: Make, tmp_path: Path) -> None:
    table = TableConfig(
        name="ORDERS",
        object="RETAIL.EXTRACT.ORDERS",
        primary_key="ORDER_ID",
        cursor="UPDATED_AT",
        contract=False,
    )
    sources = tmp_path / "sources.yml"
    missing = pytest.raises(SourceObjectMissing, match=r"RETAIL.EXTRACT.ORDERS does not exist")
    with missing as error, reading_object(table, sources):
        max_cursor(make().connection(), table)
    assert "lakeml transform --snowflake" in str(error.value) and str(sources) in str(error.value)


def test_credentials_are_never_logged_even_at_debug(
    make: Make, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    source = make()
    assert answers(source.connection())
    source.close()
    assert answers(source.connection())
    captured = capsys.readouterr()
    assert "opening a source connection" in caplog.text
    assert CANARY not in caplog.text + captured.out + captured.err


def test_only_the_aws_adapter_can_unload(make: Make, request: pytest.FixtureRequest) -> None:
    assert make().can_unload is (request.node.callspec.params["make"] == "aws")


def test_an_idle_local_connection_to_a_restarted_twin_is_reopened(
    twin: Twin, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The server restarts on a new port while the connection sits idle (as a Snowflake session expires
    while a Lambda is frozen): the health check fails and a new connection to the new server is opened.
    Local only: the AWS adapter's secret names a fixed port."""
    caplog.set_level(logging.INFO, logger="ingestion.source.kept")
    source = LocalSourceConnector(twin.settings, twin.endpoint)
    first = source.connection()
    server.stop(twin.settings)
    server.ensure_running(twin.settings)  # a new process on a new free port
    monkeypatch.setattr(kept, "IDLE_CHECK_AFTER_S", 0.0)
    monkeypatch.setattr(kept, "HEALTH_CHECK_TIMEOUT_S", 2.0)
    monkeypatch.setattr(kept, "CLOSE_TIMEOUT_S", 0.5)

    second = source.connection()

    assert second is not first and answers(second)
    assert "failed a health check" in caplog.text
