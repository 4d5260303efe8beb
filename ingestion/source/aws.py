"""AWS adapter of the source port: a Snowflake account, credentials through the secrets port.

On AWS the password or key pair comes from the secrets port (Secrets Manager when `source.secret_id` is
set), read only when a connection is opened; everything else is the same kept connection as locally.
Snowflake runs `COPY INTO @stage`, so tables may use `mode: unload`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingestion.secrets.port import SecretsProvider
from ingestion.source.kept import close_kept, kept_connection
from lakeml.core.settings import Settings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection


class SnowflakeSourceConnector:
    """`SourceConnector` on a Snowflake account (or anything speaking its protocol at `host`/`port`)."""

    can_unload = True

    def __init__(self, settings: Settings, secrets: SecretsProvider) -> None:
        self.settings = settings
        self.secrets = secrets
        self.identity = f"aws|{settings.home}|{settings.source.model_dump_json()}"

    def connection(self) -> SnowflakeConnection:
        return kept_connection(self.identity, self.secrets.snowflake_credentials)

    def close(self) -> None:
        close_kept(self.identity)
