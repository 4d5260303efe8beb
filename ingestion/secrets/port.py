"""Where Snowflake credentials come from: settings/env locally, Secrets Manager on AWS. Never logged.

Both adapters return the keyword arguments of `snowflake.connector.connect`, so the engine never knows
where credentials came from; `tests/contract/test_secrets.py` holds them to the same result.
"""

from __future__ import annotations

from typing import Any, Protocol

from lakeml.core.settings import Settings


class SecretsProvider(Protocol):
    def snowflake_credentials(self) -> dict[str, Any]:
        """Keyword arguments for `snowflake.connector.connect` that carry identity and secrets
        (user, password or private_key, account, and optionally host/port/protocol)."""
        ...


class SettingsSecrets:
    """Local adapter: credentials from `settings.source` (lakeml.toml or LAKEML_SOURCE__* env vars):
    `password`, or key-pair auth with `private_key_path` (an unencrypted PEM file)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def snowflake_credentials(self) -> dict[str, Any]:
        from lakeml.twins.snowflake.connection import connection_params

        return connection_params(self.settings)


def secrets_provider(settings: Settings) -> SecretsProvider:
    """The one switch: Secrets Manager when `source.secret_id` is set on aws, else settings."""
    if settings.env == "aws" and settings.source.secret_id:
        from ingestion.aws_adapters import SecretsManagerSecrets

        return SecretsManagerSecrets(settings)
    return SettingsSecrets(settings)
