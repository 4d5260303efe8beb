"""Connections to the local twin, always through the real snowflake-connector-python.

The connector talks HTTP to the fakesnow server of this LAKEML_HOME (started if needed), exactly as
production talks to Snowflake; the keyword arguments come from ingestion's one builder, so the twin's
own connections (generator, tests, benchmarks) and ingestion's agree on every argument. An explicit
`settings.source.host` (another emulator) wins over the twin's server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingestion.source.params import connection_params as source_params
from lakeml.core.settings import Settings
from lakeml.twins.snowflake.server import ensure_running

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection


def connection_params(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `snowflake.connector.connect` to this home's twin (contains secrets: never
    log it). Starts the twin's server when `settings.source.host` does not name another endpoint."""
    source = settings.source
    return source_params(source, None if source.host else ensure_running(settings))


def connect(settings: Settings, **overrides: Any) -> SnowflakeConnection:
    """A new connector connection to this home's twin (the caller closes it)."""
    import snowflake.connector

    return snowflake.connector.connect(**{**connection_params(settings), **overrides})
