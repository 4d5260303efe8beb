"""One source connection per process, reused across warm Lambda invocations and re-opened when stale."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingestion.secrets import secrets_provider
from lakeml.settings import Settings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

_cached: SnowflakeConnection | None = None


def source_connection(settings: Settings) -> SnowflakeConnection:
    global _cached
    if _cached is not None and not _cached.is_closed():
        return _cached
    import snowflake.connector

    _cached = snowflake.connector.connect(**secrets_provider(settings).snowflake_credentials())
    return _cached


def close_source_connection() -> None:
    global _cached
    if _cached is not None:
        _cached.close()
        _cached = None
