"""The kept source connection: reused while healthy, re-opened when closed or stale, credentials never logged.

Runs against the real local Snowflake (fakesnow server) through the real connector, as on a warm Lambda.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

import ingestion.connection as connection
from ingestion.connection import close_source_connection, source_connection
from lakeml.core.settings import Settings
from lakeml.twins.snowflake import server

pytestmark = pytest.mark.xdist_group("source-connection")

CANARY = "canary-local-Pw-3b8f01"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A local home whose fakesnow server is shared by the module; the password is a canary."""
    local = Settings(home=tmp_path_factory.mktemp("connection-home"), source={"password": CANARY})
    server.ensure_running(local)
    yield local
    close_source_connection()
    server.stop(local)


@pytest.fixture(autouse=True)
def fresh(settings: Settings) -> Iterator[None]:
    close_source_connection()
    yield
    close_source_connection()


def answers(conn: Any) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchall() == [(1,)]


def test_a_healthy_connection_is_reused(settings: Settings) -> None:
    first = source_connection(settings)
    assert source_connection(settings) is first
    assert answers(first)


def test_a_connection_the_connector_reports_closed_is_replaced(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`is_closed()` is stubbed because fakesnow sessions have no master token: the connector's logout
    fails there and it keeps reporting the connection open (against Snowflake, close() closes)."""
    first = source_connection(settings)
    monkeypatch.setattr(first, "is_closed", lambda: True)
    second = source_connection(settings)
    assert second is not first and answers(second)


def test_an_idle_connection_that_passes_the_health_check_is_kept(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = source_connection(settings)
    monkeypatch.setattr(connection, "IDLE_CHECK_AFTER_S", 0.0)  # every reuse counts as "after idling"
    assert source_connection(settings) is first


def test_an_idle_connection_to_a_restarted_server_is_reopened(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The server restarts on a new port while the connection sits idle (as a Snowflake session expires
    while a Lambda is frozen): the health check fails and a new connection to the new server is opened."""
    caplog.set_level(logging.INFO, logger="ingestion.connection")
    first = source_connection(settings)
    server.stop(settings)
    server.ensure_running(settings)  # a new process on a new free port
    monkeypatch.setattr(connection, "IDLE_CHECK_AFTER_S", 0.0)
    monkeypatch.setattr(connection, "HEALTH_CHECK_TIMEOUT_S", 2.0)
    monkeypatch.setattr(connection, "CLOSE_TIMEOUT_S", 0.5)

    started = time.monotonic()
    second = source_connection(settings)

    assert second is not first and answers(second)
    assert "failed a health check" in caplog.text
    assert time.monotonic() - started < 15  # bounded, not the connector's minutes of retries


def test_a_connection_for_other_settings_is_not_reused(settings: Settings) -> None:
    first = source_connection(settings)
    other = settings.model_copy(update={"source": settings.source.model_copy(update={"role": "OTHER"})})
    second = source_connection(other)
    assert second is not first and answers(second)
    assert source_connection(other) is second  # the kept one is now the new one


def test_credentials_are_never_logged_even_at_debug(
    settings: Settings, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    assert answers(source_connection(settings))
    close_source_connection()
    assert answers(source_connection(settings))
    captured = capsys.readouterr()
    assert "opening a source connection" in caplog.text
    assert CANARY not in caplog.text + captured.out + captured.err
