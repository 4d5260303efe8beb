"""The generator's only door to the source: SQL through the snowflake connector.

Bulk rows go in as Parquet: each chunk is written to a temporary file, `PUT` to the table's stage and
`COPY INTO … MATCH_BY_COLUMN_NAME` -- the way one loads Snowflake fast, and the path fakesnow's server
supports (`write_pandas` does not work against the server). Updates are staged the same way into a
LAKEML_META table and applied with one `UPDATE … FROM`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DATABASE = "RETAIL"
RAW = "RETAIL.RAW"
META = "RETAIL.LAKEML_META"
FLUSH_ROWS = 400_000


class Sql:
    """A cursor plus a scratch folder for Parquet files; one per generator call."""

    def __init__(self, conn: Any, scratch: Path) -> None:
        self.conn = conn
        self.cur = conn.cursor()
        self.scratch = scratch
        self._files = 0
        self._pending: dict[str, list[pa.Table]] = {}

    def append(self, qualified_table: str, table: pa.Table) -> None:
        """Queue rows for `qualified_table`; they are loaded once FLUSH_ROWS have gathered (or on flush()).

        Each PUT + COPY costs a few round trips, so loading every 20,000-customer chunk separately would
        spend most of a large run waiting on the server; batching keeps memory bounded all the same.
        """
        if table.num_rows == 0:
            return
        queue = self._pending.setdefault(qualified_table, [])
        queue.append(table)
        if sum(t.num_rows for t in queue) >= FLUSH_ROWS:
            self._flush_one(qualified_table)

    def flush(self) -> None:
        for qualified_table in list(self._pending):
            self._flush_one(qualified_table)

    def _flush_one(self, qualified_table: str) -> None:
        queue = self._pending.pop(qualified_table, [])
        if queue:
            self.load(qualified_table, pa.concat_tables(queue, promote_options="permissive"))

    def run(self, statement: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        self.cur.execute(statement, params) if params else self.cur.execute(statement)
        return list(self.cur.fetchall())

    def arrow(self, statement: str) -> pa.Table:
        self.cur.execute(statement)
        table = self.cur.fetch_arrow_all()
        if table is None:  # the connector returns None for an empty result
            names = [d[0] for d in self.cur.description]
            return pa.table({n: pa.array([], pa.null()) for n in names})
        return table

    def tables(self, schema: str) -> set[str]:
        rows = self.run(
            f"SELECT TABLE_NAME FROM {DATABASE}.INFORMATION_SCHEMA.TABLES "
            f"WHERE TABLE_SCHEMA = '{schema}' AND TABLE_TYPE = 'BASE TABLE'"
        )
        return {r[0].upper() for r in rows}

    def load(self, qualified_table: str, table: pa.Table) -> int:
        """Append `table` to `qualified_table` (PUT + COPY INTO, columns matched by name).

        The stage holds only this file: COPY purges what it loaded (fakesnow's server ignores FILES=(...)
        on internal stages), and FORCE re-loads a name seen before a reset.
        """
        if table.num_rows == 0:
            return 0
        self._files += 1
        name = qualified_table.split(".")[-1].lower()
        path = self.scratch / f"{name}_{self._files:06d}.parquet"
        pq.write_table(table, path, compression="snappy")
        stage = qualified_table.rsplit(".", 1)
        stage_name = f"@{stage[0]}.%{stage[1]}"
        self.run(f"PUT 'file://{path}' {stage_name} AUTO_COMPRESS=FALSE OVERWRITE=TRUE")
        result = self.run(
            f"COPY INTO {qualified_table} FROM {stage_name} "
            "FILE_FORMAT=(TYPE=PARQUET) MATCH_BY_COLUMN_NAME=CASE_SENSITIVE PURGE=TRUE FORCE=TRUE"
        )
        path.unlink(missing_ok=True)
        return sum(int(r[2]) for r in result if r[1] == "LOADED")

    def columns(self, schema: str, table: str) -> dict[str, str]:
        rows = self.run(
            f"SELECT COLUMN_NAME, DATA_TYPE FROM {DATABASE}.INFORMATION_SCHEMA.COLUMNS "
            f"WHERE TABLE_SCHEMA = '{schema}' AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
        )
        return {r[0].upper(): str(r[1]).upper() for r in rows}


@contextmanager
def session(conn: Any) -> Iterator[Sql]:
    with tempfile.TemporaryDirectory(prefix="lakeml-gen-") as scratch:
        sql = Sql(conn, Path(scratch))
        try:
            yield sql
        finally:
            sql.cur.close()
