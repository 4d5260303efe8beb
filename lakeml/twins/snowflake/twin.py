"""The handle the app layer gets for the local Snowflake twin: `adapters(settings).twin`.

One object per LAKEML_HOME for everything `lakeml source …` and the flow's source stage do: the server's
life cycle (`server.py`), connections (`connection.py`) and the churn generator (`generator.py`). Only
the wiring builds it, and only locally: on AWS the source is Snowflake itself and there is no twin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakeml.core.settings import Settings
from lakeml.twins.snowflake import generator, server
from lakeml.twins.snowflake.connection import connect
from lakeml.twins.snowflake.generator import ProgressFn, SeedConfig
from lakeml.twins.snowflake.server import ServerInfo

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection


class SnowflakeTwin:
    """The fakesnow server over DuckDB files under `<home>/source`, and the churn data in it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # --- the server ---------------------------------------------------------------------------------------

    def ensure_running(self) -> ServerInfo:
        """This home's server, started (and waited for) when it is not running; has `.host`/`.port`."""
        return server.ensure_running(self.settings)

    def running(self) -> ServerInfo | None:
        """This home's live server, or None (never starts one)."""
        return server.running(self.settings)

    def stop(self) -> ServerInfo | None:
        """Stop this home's server (data stays on disk); what was stopped, or None."""
        return server.stop(self.settings)

    def connect(self) -> SnowflakeConnection:
        """A new connector connection (the caller closes it); starts the server if needed."""
        return connect(self.settings)

    def status(self) -> dict[str, Any]:
        """Rows per RETAIL.RAW table and where the server listens (`lakeml source status --json`)."""
        counts = self.table_counts()
        info = self.running()
        source = self.settings.source
        return {
            "tables": counts,
            "server": info.to_json() if info else {"host": source.host, "port": source.port},
        }

    # --- the data -----------------------------------------------------------------------------------------

    def table_counts(self) -> dict[str, int]:
        with self.connect() as conn:
            return generator.table_counts(conn)

    def seed(self, config: SeedConfig, progress: ProgressFn | None = None) -> dict[str, Any]:
        """Fill an empty source (`generator.seed`); UsageError when it has data already."""
        with self.connect() as conn:
            return generator.seed(conn, config, progress=progress)

    def seed_default(self, progress: ProgressFn | None = None) -> dict[str, Any]:
        """`seed` at the demo scale (`SeedConfig()`: 5,000 customers, 450 days, seed 42), as `lakeml run` does."""
        return self.seed(SeedConfig(), progress=progress)

    def advance(self, days: int, progress: ProgressFn | None = None) -> dict[str, Any]:
        with self.connect() as conn:
            return generator.advance(conn, days, progress=progress)

    def drift(self) -> dict[str, Any]:
        with self.connect() as conn:
            return generator.drift(conn)

    def reset(self) -> None:
        with self.connect() as conn:
            generator.reset(conn)
