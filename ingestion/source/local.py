"""Local adapter of the source port: the fakesnow twin of this LAKEML_HOME, through the real connector.

Credentials come from `settings.source` (the twin accepts the defaults); host and port from a callable
the wiring passes (it starts the twin's server if needed), called only when a connection is opened, so
ingestion never imports the twin. An explicit `settings.source.host` wins over the callable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ingestion.source.kept import close_kept, kept_connection
from ingestion.source.params import Endpoint, connection_params
from lakeml.core.settings import Settings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection


class LocalSourceConnector:
    """`SourceConnector` on the local twin. It cannot run `COPY INTO @stage`, so no unload mode."""

    can_unload = False

    def __init__(self, settings: Settings, endpoint: Callable[[], Endpoint]) -> None:
        self.settings = settings
        self.endpoint = endpoint
        # what the kept connection is for; model_dump_json masks SecretStr, so this is safe to keep
        self.identity = f"local|{settings.home}|{settings.source.model_dump_json()}"

    def params(self) -> dict[str, Any]:
        """Connector kwargs (with the password: never log them)."""
        source = self.settings.source
        return connection_params(source, None if source.host else self.endpoint())

    def connection(self) -> SnowflakeConnection:
        return kept_connection(self.identity, self.params)

    def close(self) -> None:
        close_kept(self.identity)
