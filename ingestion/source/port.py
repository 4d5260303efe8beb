"""The source-connection port: a Snowflake connection the process keeps, and what it can do.

Ingestion reads the source through the real `snowflake-connector-python` connection this port hands out,
whether it talks to the local twin (fakesnow) or to a Snowflake account; only how credentials and the
host are found differs, and whether Snowflake-side features such as `COPY INTO @stage` exist
(`can_unload`). The error for a missing object lives here because both adapters raise it the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ingestion.config import TableConfig
from lakeml.core.errors import LakemlError

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

OBJECT_DOES_NOT_EXIST = 2003  # Snowflake's error code for a missing (or unauthorised) table or view


class SourceConnector(Protocol):
    """One connection per process to the source, reused while healthy and re-opened when stale."""

    @property
    def can_unload(self) -> bool:
        """Whether the source can run `COPY INTO @stage` (Snowflake can; the local twin cannot)."""
        ...

    def connection(self) -> SnowflakeConnection:
        """The kept connection, opened (or re-opened) when needed."""
        ...

    def close(self) -> None:
        """Close the kept connection; the next `connection()` opens a new one."""
        ...


class SourceObjectMissing(LakemlError):
    """The table's configured `object` does not exist in Snowflake (or this user cannot read it). For the
    default, the extraction view, that means the views were not built: the message says how."""

    def __init__(self, table: TableConfig, sources: Path) -> None:
        self.table = table.name
        where = f"set {table.name}.object in {sources} to read another object"
        if table.object_schema == "EXTRACT":
            super().__init__(
                f"table {table.name}: {table.object} does not exist in the source (or this user cannot read "
                f"it). It is the table's extraction view, built in Snowflake by dbt "
                f"(dbt_project/models/snowflake/extract_{table.lower}.sql): run `lakeml transform --snowflake` "
                f"to build the views (`lakeml run` builds them before it ingests), or {where}."
            )
        else:
            super().__init__(
                f"table {table.name}: {table.object} does not exist in the source (or this user cannot read "
                f"it); check the name, or {where}."
            )


@contextmanager
def reading_object(table: TableConfig, sources: Path) -> Iterator[None]:
    """Turn Snowflake's "object does not exist" for the table's object into SourceObjectMissing."""
    try:
        yield
    except Exception as exc:
        from snowflake.connector.errors import ProgrammingError

        if isinstance(exc, ProgrammingError) and exc.errno == OBJECT_DOES_NOT_EXIST:
            raise SourceObjectMissing(table, sources) from exc
        raise
