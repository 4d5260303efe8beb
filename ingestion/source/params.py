"""The keyword arguments of `snowflake.connector.connect`, from `settings.source` and an optional endpoint.

One builder for every caller (both secrets adapters, the local twin's own `connect()`, benchmarks), so
all of them agree on every non-secret argument: database, schema, timeouts, host/port/protocol. The
result carries secrets: never log it.
"""

from __future__ import annotations

from typing import Any, Protocol

from lakeml.core.settings import SourceSettings

LOGIN_TIMEOUT_S = 30
NETWORK_TIMEOUT_S = 300


class Endpoint(Protocol):
    """Where a local Snowflake emulator answers (the twin's server info has these two attributes)."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


def connection_params(source: SourceSettings, endpoint: Endpoint | None = None) -> dict[str, Any]:
    """Connector kwargs for `source`. An explicit `source.host` wins; else `endpoint` (a local emulator,
    spoken to over plain http); else none, and the connector derives Snowflake's host from the account."""
    params: dict[str, Any] = {
        "account": source.account,
        "user": source.user,
        "database": source.database,
        "schema": source.schema_name,
        "login_timeout": LOGIN_TIMEOUT_S,
        "network_timeout": NETWORK_TIMEOUT_S,
    }
    if source.warehouse:
        params["warehouse"] = source.warehouse
    if source.role:
        params["role"] = source.role
    if source.password is not None and source.private_key_path is None:
        params["password"] = source.password.get_secret_value()
    if source.private_key_path is not None:
        params["private_key_file"] = str(source.private_key_path)
    if source.host:
        params.update(host=source.host, port=source.port or 443, protocol=source.protocol)
    elif endpoint is not None:
        params.update(host=endpoint.host, port=endpoint.port, protocol="http")
    return params
