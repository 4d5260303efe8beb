"""Reading one window of a table from Snowflake as a stream of Arrow chunks of a fixed size.

The window is `(low, high]` on the cursor column, with `high` read once at the start (minus the lag) so
the run is a fixed, repeatable slice of the source. Rows whose cursor equals `low` are read again and the
caller drops those whose key is in `Watermark.keys_at_cursor` (a row committed late with the same
timestamp is taken; none is taken twice). The stream is ordered by (cursor, primary key) so duplicate
copies of a row are adjacent even across chunk boundaries. Large windows are read in keyset pages so the
client's memory is bounded by `page_rows`, not by the table (see `Stream`).

Every value reaches Snowflake as a bind parameter; only identifiers validated by `ingestion.config` are
written into the SQL text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from ingestion.config import TableConfig
from ingestion.retry import transient_retry
from lakeml.core.errors import LakemlError

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection
    from snowflake.connector.cursor import SnowflakeCursor

Mode = Literal["incremental", "full_refresh", "backfill"]


@dataclass(frozen=True)
class Window:
    """The rows one run takes: cursor in (low, high] plus rows at `low` not yet landed. `high` is read at
    the start, minus the lag, so rows committed late fall into the next window instead of being skipped.
    `from_run_id` is the watermark the run starts from: with (table, low, high, mode) it makes the run id,
    so re-running the same window from the same state rewrites the same files, and a repeated full
    refresh (same bounds, newer state) is a new run rather than an overwrite of a committed one."""

    table: str
    low: datetime | None
    high: datetime
    mode: Mode
    from_run_id: str | None = None

    @property
    def run_id(self) -> str:
        key = json.dumps(
            [self.table, _iso(self.low), _iso(self.high), self.mode, self.from_run_id], separators=(",", ":")
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        return f"{self.high.strftime('%Y%m%dT%H%M%S')}-{self.mode.replace('_', '')}-{digest}"

    @property
    def ingest_date(self) -> str:
        return self.high.date().isoformat()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- Arrow types of bronze: one rule, whatever the connector hands back ---------------------------------
# Snowflake FIELD_TYPES codes (snowflake.connector.constants): 0 FIXED, 1 REAL, 2 TEXT, 3 DATE, 4 TIMESTAMP,
# 5 VARIANT, 6 TIMESTAMP_LTZ, 7 TIMESTAMP_TZ, 8 TIMESTAMP_NTZ, 9 OBJECT, 10 ARRAY, 11 BINARY, 12 TIME,
# 13 BOOLEAN. The connector returns NUMBER(p,0) as int8..int64 or decimal depending on p and settings and
# NUMBER(p,s) as float64 or decimal; bronze must not depend on that, so the type comes from the result
# metadata: NUMBER(p,0) -> int64, NUMBER(p,s>0) -> decimal128(p,s) (exact money), timestamps -> us.


def arrow_type(type_code: int, precision: int | None, scale: int | None) -> pa.DataType:
    if type_code == 0:
        if not scale:
            return pa.int64()
        return pa.decimal128(precision or 38, scale)
    simple: dict[int, pa.DataType] = {
        1: pa.float64(),
        2: pa.string(),
        3: pa.date32(),
        4: pa.timestamp("us"),
        5: pa.string(),
        6: pa.timestamp("us", tz="UTC"),
        7: pa.timestamp("us", tz="UTC"),
        8: pa.timestamp("us"),
        9: pa.string(),
        10: pa.string(),
        11: pa.binary(),
        12: pa.time64("us"),
        13: pa.bool_(),
    }
    if type_code not in simple:
        raise LakemlError(
            f"Snowflake type code {type_code} has no bronze mapping; add it to ingestion/extract.arrow_type"
        )
    return simple[type_code]


def result_schema(cursor: SnowflakeCursor) -> pa.Schema:
    """Bronze schema of the cursor's result, from its metadata (known even when the result is empty)."""
    fields = [pa.field(d.name, arrow_type(d.type_code, d.precision, d.scale)) for d in cursor.description]
    return pa.schema(fields)


def conform(batch: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast a fetched batch to the bronze schema (safe casts only: overflow or truncation raises)."""
    if batch.schema.names != schema.names:
        raise LakemlError(
            f"result columns changed during the run: {batch.schema.names} != {schema.names}; re-run the table"
        )
    try:
        return batch.replace_schema_metadata(None).cast(schema, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LakemlError(
            f"cannot convert the result to bronze types ({exc}); see ingestion/extract.py"
        ) from None


def schema_fingerprint(schema: pa.Schema) -> str:
    text = json.dumps(schema_doc(schema), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def schema_doc(schema: pa.Schema) -> list[dict[str, str]]:
    return [{"name": f.name, "type": str(f.type)} for f in schema]


# --- SQL ------------------------------------------------------------------------------------------------


def window_predicate(table: TableConfig, low: datetime | None) -> str:
    """`low` is inclusive here; rows at `low` already landed are dropped by key after the fetch."""
    lower = f"{table.cursor} >= %(low)s AND " if low is not None else ""
    return f"{lower}{table.cursor} <= %(high)s"


Bound = Literal["key", "null_key"]


def select_sql(
    table: TableConfig, low: datetime | None, after: Bound | None = None, upto: Bound | None = None
) -> str:
    """The window's rows in (cursor, key) order; with `page_rows`, one page of them.

    A page is a range of (cursor, key): strictly after the bound in `after_cursor`/`after_key` and up to
    and including the one in `upto_cursor`/`upto_key` (`null_key`: that cursor's rows whose key is NULL,
    which sort last within their cursor). NULL is named explicitly: it compares to nothing, so `key > x`
    alone would lose it. The plain range terms on the cursor let the engine skip what other pages hold
    (zone maps, micro-partitions), so a page costs its own rows, not the rest of the window.
    """
    c, k = table.cursor, table.primary_key
    predicate = window_predicate(table, low)
    if after == "key":
        predicate += (
            f" AND {c} >= %(after_cursor)s"
            f" AND ({c} > %(after_cursor)s OR ({c} = %(after_cursor)s AND ({k} > %(after_key)s OR {k} IS NULL)))"
        )
    elif after == "null_key":
        predicate += f" AND {c} > %(after_cursor)s"
    if upto == "key":
        predicate += (
            f" AND {c} <= %(upto_cursor)s"
            f" AND ({c} < %(upto_cursor)s OR ({c} = %(upto_cursor)s AND {k} <= %(upto_key)s))"
        )
    elif upto == "null_key":
        predicate += f" AND {c} <= %(upto_cursor)s"
    return f"SELECT * FROM {table.object} WHERE {predicate} ORDER BY {c}, {k} NULLS LAST"


def page_bounds_sql(table: TableConfig, low: datetime | None) -> str:
    """The (cursor, key) of every `page_rows`-th row of the window in (cursor, key) order: one sort of
    the two columns, after which each page is a range query of its own size."""
    c, k = table.cursor, table.primary_key
    numbered = (
        f"SELECT {c}, {k}, ROW_NUMBER() OVER (ORDER BY {c}, {k} NULLS LAST) AS LAKEML_ROW "
        f"FROM {table.object} WHERE {window_predicate(table, low)}"
    )
    return f"SELECT {c}, {k} FROM ({numbered}) WHERE MOD(LAKEML_ROW, %(page_rows)s) = 0 ORDER BY LAKEML_ROW"


def bounds_sql(table: TableConfig) -> str:
    return f"SELECT MAX({table.cursor}) FROM {table.object}"


def count_sql(table: TableConfig, low: datetime | None) -> str:
    return f"SELECT COUNT(*) FROM {table.object} WHERE {window_predicate(table, low)}"


def params(low: datetime | None, high: datetime) -> dict[str, Any]:
    return {"low": low, "high": high} if low is not None else {"high": high}


@transient_retry
def max_cursor(conn: SnowflakeConnection, table: TableConfig) -> datetime | None:
    with conn.cursor() as cur:
        cur.execute(bounds_sql(table))
        row = cur.fetchone()
    value = row[0] if row else None
    if value is not None and not isinstance(value, datetime):
        raise LakemlError(
            f"{table.object}.{table.cursor} is not a timestamp (got {type(value).__name__}); set cursor: "
            f"in ingestion/sources.yml for {table.name} to a TIMESTAMP column"
        )
    return value.replace(tzinfo=None) if value is not None and value.tzinfo is None else value


@transient_retry
def window_count(conn: SnowflakeConnection, table: TableConfig, low: datetime | None, high: datetime) -> int:
    with conn.cursor() as cur:
        cur.execute(count_sql(table, low), params(low, high))
        row = cur.fetchone()
    return int(row[0]) if row else 0


@transient_retry
def _execute(conn: SnowflakeConnection, sql: str, binds: dict[str, Any]) -> SnowflakeCursor:
    cur = conn.cursor()
    cur.execute(sql, binds)
    return cur


@transient_retry
def page_bounds(conn: SnowflakeConnection, table: TableConfig, window: Window) -> list[tuple[Any, Any]]:
    """The last (cursor, key) of each full page of `window`, ascending, each once."""
    binds = {**params(window.low, window.high), "page_rows": table.page_rows}
    with conn.cursor() as cur:
        cur.execute(page_bounds_sql(table, window.low), binds)
        rows = cur.fetchall()
    bounds: list[tuple[Any, Any]] = []
    for cursor_value, key_value in rows:
        if not bounds or bounds[-1] != (cursor_value, key_value):  # more copies of one key than a page
            bounds.append((cursor_value, key_value))
    return bounds


class Stream:
    """An executed window query: its bronze schema (known before any row) and its rows in fixed chunks.

    Chunks are re-cut to exactly `chunk_rows` (the last one may be shorter) whatever batch sizes the
    connector yields, so everything downstream (row groups, part boundaries) is a function of the rows
    alone and a re-run writes the same files.

    With `page_rows` the window is read as a sequence of keyset pages, so the client holds at most one
    page whatever the server does with a result: the local server hands a whole result over as one batch,
    and a very large result outlives the connector's request timeout. One query first numbers the
    window's (cursor, key) and returns every `page_rows`-th; each page is then the range between two of
    those bounds (`select_sql`), so a page query filters and sorts its own rows only (a `LIMIT` page had to
    re-sort the whole rest of the window, quadratic in the window). All copies of a (cursor, key) fall in
    the same page, so exact copies reach the duplicate check together, and nothing is read twice.
    """

    def __init__(self, conn: SnowflakeConnection, table: TableConfig, window: Window) -> None:
        self.conn = conn
        self.table = table
        self.window = window
        self.pages = 0
        self.bounds = page_bounds(conn, table, window) if table.page_rows else []
        self.cursor = self._page(0)
        self.schema = result_schema(self.cursor)

    def _page(self, index: int) -> SnowflakeCursor:
        """Execute page `index`: after bound `index - 1` (if any), up to bound `index` (if any)."""
        binds = params(self.window.low, self.window.high)
        after: Bound | None = None
        upto: Bound | None = None
        if index > 0:
            cursor_value, key_value = self.bounds[index - 1]
            after = "null_key" if key_value is None else "key"
            binds |= {"after_cursor": cursor_value, "after_key": key_value}
        if index < len(self.bounds):
            cursor_value, key_value = self.bounds[index]
            upto = "null_key" if key_value is None else "key"
            binds |= {"upto_cursor": cursor_value, "upto_key": key_value}
        return _execute(self.conn, select_sql(self.table, self.window.low, after, upto), binds)

    def batches(self) -> Iterator[pa.Table]:
        """The connector's batches of every page, in (cursor, key) order, each row exactly once."""
        for index in range(len(self.bounds) + 1):
            cursor = self.cursor if index == 0 else self._page(index)
            try:
                yield from (batch for batch in cursor.fetch_arrow_batches() if batch.num_rows)
            finally:
                cursor.close()
            self.pages += 1

    def chunks(self) -> Iterator[pa.Table]:
        size = self.table.chunk_rows
        carry: list[pa.Table] = []
        carried = 0
        for batch in self.batches():
            # conform slice by slice: a cast of the whole batch would copy the entire result at once
            offset = 0
            if carried:
                take = min(size - carried, batch.num_rows)
                carry.append(conform(batch.slice(0, take), self.schema))
                carried += take
                offset = take
                if carried < size:
                    continue
                yield pa.concat_tables(carry).combine_chunks()
                carry, carried = [], 0
            while batch.num_rows - offset >= size:
                yield conform(batch.slice(offset, size), self.schema)
                offset += size
            if offset < batch.num_rows:
                carry.append(conform(batch.slice(offset), self.schema))
                carried += batch.num_rows - offset
        if carried:
            yield pa.concat_tables(carry).combine_chunks()
