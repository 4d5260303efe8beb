"""The secrets port: Snowflake credentials as `snowflake.connector.connect` keyword arguments. Never logged.

Both adapters return the same shape, so the source connection never knows where credentials came from;
`tests/contract/test_secrets.py` holds them to the same result. The Protocol lives apart from the
adapters so the AWS source adapter depends on "some secrets", not on Secrets Manager.
"""

from __future__ import annotations

from typing import Any, Protocol


class SecretsProvider(Protocol):
    def snowflake_credentials(self) -> dict[str, Any]:
        """Keyword arguments for `snowflake.connector.connect` that carry identity and secrets
        (user, password or private_key, account, and optionally host/port/protocol)."""
        ...
