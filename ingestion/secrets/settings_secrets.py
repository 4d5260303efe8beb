"""Local adapter of the secrets port: credentials from `settings.source`.

On a laptop (and for the local twin) the credentials are in lakeml.toml or `LAKEML_SOURCE__*` variables:
`password`, or key-pair auth with `private_key_path` (an unencrypted PEM file). On AWS the wiring uses it
too when no `source.secret_id` is set.
"""

from __future__ import annotations

from typing import Any

from ingestion.source.params import connection_params
from lakeml.core.settings import Settings


class SettingsSecrets:
    """`SecretsProvider` reading `settings.source`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def snowflake_credentials(self) -> dict[str, Any]:
        return connection_params(self.settings.source)
