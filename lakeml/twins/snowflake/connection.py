"""Connections to the source, always through the real snowflake-connector-python.

Locally the connector talks HTTP to the fakesnow server of this LAKEML_HOME, exactly as production talks
to Snowflake; on AWS it uses the account, key pair or password from `settings.source` (the ingestion
package resolves Secrets Manager credentials before calling `connect`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakeml.core.settings import Settings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection


def connection_params(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `snowflake.connector.connect` (contains secrets: never log it)."""
    src = settings.source
    params: dict[str, Any] = {
        "account": src.account,
        "user": src.user,
        "database": src.database,
        "schema": src.schema_name,
        "login_timeout": 30,
        "network_timeout": 300,
    }
    if src.warehouse:
        params["warehouse"] = src.warehouse
    if src.role:
        params["role"] = src.role
    if src.password is not None and src.private_key_path is None:
        params["password"] = src.password.get_secret_value()
    if src.private_key_path is not None:
        params["private_key_file"] = str(src.private_key_path)
    if src.host:
        params.update(host=src.host, port=src.port or 443, protocol=src.protocol)
    elif settings.env == "local":
        from lakeml.twins.snowflake.server import ensure_running

        info = ensure_running(settings)
        params.update(host=info.host, port=info.port, protocol="http")
    return params


def connect(settings: Settings, **overrides: Any) -> SnowflakeConnection:
    import snowflake.connector

    return snowflake.connector.connect(**{**connection_params(settings), **overrides})
