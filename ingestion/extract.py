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
import pyarrow.compute as pc

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


def select_sql(
    table: TableConfig, low: datetime | None, after: Literal["key", "null_key"] | None = None
) -> str:
    """The window's rows in (cursor, key) order; with `page_rows`, one page of them.

    `after` continues strictly after the (cursor, key) bound in `after_cursor`/`after_key` (`null_key`:
    after the rows of that cursor whose key is NULL). NULL keys sort last within their cursor and are
    named explicitly: a NULL compares to nothing, so `key > x` alone would lose them.
    """
    c, k = table.cursor, table.primary_key
    predicate = window_predicate(table, low)
    if after == "key":
        # the plain range term lets the engine skip what earlier pages read (zone maps, micro-partitions)
        predicate += (
            f" AND {c} >= %(after_cursor)s"
            f" AND ({c} > %(after_cursor)s OR ({c} = %(after_cursor)s AND ({k} > %(after_key)s OR {k} IS NULL)))"
        )
    elif after == "null_key":
        predicate += f" AND {c} > %(after_cursor)s"
    limit = " LIMIT %(page_rows)s" if table.page_rows else ""
    return f"SELECT * FROM {table.object} WHERE {predicate} ORDER BY {c}, {k} NULLS LAST{limit}"


def key_group_sql(table: TableConfig, low: datetime | None, null_key: bool) -> str:
    """Every copy of one (cursor, key): the group a full page ended in, read whole."""
    c, k = table.cursor, table.primary_key
    key = f"{k} IS NULL" if null_key else f"{k} = %(after_key)s"
    return f"SELECT * FROM {table.object} WHERE {window_predicate(table, low)} AND {c} = %(after_cursor)s AND {key}"


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


class Stream:
    """An executed window query: its bronze schema (known before any row) and its rows in fixed chunks.

    Chunks are re-cut to exactly `chunk_rows` (the last one may be shorter) whatever batch sizes the
    connector yields, so everything downstream (row groups, part boundaries) is a function of the rows
    alone and a re-run writes the same files.

    With `page_rows` the window is read as a sequence of keyset pages (`ORDER BY cursor, key LIMIT n`,
    each continuing strictly after the previous page's last key), so the client holds at most one page
    whatever the server does with a result: the local server hands a whole result over as one batch, and
    a very large result outlives the connector's request timeout. The copies of a full page's last
    (cursor, key) are held back and read whole by one more query, so exact copies of a row split by a
    page boundary reach the duplicate check together, and nothing is read twice.
    """

    def __init__(self, conn: SnowflakeConnection, table: TableConfig, window: Window) -> None:
        self.conn = conn
        self.table = table
        self.window = window
        self.pages = 0
        self.cursor = _execute(conn, select_sql(table, window.low), self._binds())
        self.schema = result_schema(self.cursor)

    def _binds(self, after: dict[str, Any] | None = None) -> dict[str, Any]:
        binds = params(self.window.low, self.window.high)
        if self.table.page_rows:
            binds["page_rows"] = self.table.page_rows
        return {**binds, **(after or {})}

    def batches(self) -> Iterator[pa.Table]:
        """The connector's batches of every page, in (cursor, key) order, each row exactly once."""
        page_rows = self.table.page_rows
        cursor = self.cursor
        while True:
            rows, held, previous = 0, None, None
            try:
                for batch in cursor.fetch_arrow_batches():
                    if not batch.num_rows:
                        continue
                    if held is not None:
                        yield held
                        previous = held
                    held = batch
                    rows += batch.num_rows
            finally:
                cursor.close()
            self.pages += 1
            if held is None or not page_rows or rows < page_rows:
                if held is not None:
                    yield held
                return
            # a full page: the copies of its last (cursor, key) may go on past the limit, so they are read
            # whole by one more query, and the next page starts strictly after that key
            tail, after = self._last_key_group(held)
            if tail == held.num_rows and previous is not None and self._same_key(previous, after):
                raise LakemlError(
                    f"{self.table.object}: more rows share {self.table.cursor}={after['after_cursor']} and one "
                    f"{self.table.primary_key} than the connector puts in one batch; clean up the copies in "
                    f"the source, or set page_rows: 0 for {self.table.name} in ingestion/sources.yml"
                )
            if tail < held.num_rows:
                yield held.slice(0, held.num_rows - tail)
            null_key = after["after_key"] is None
            binds = self._binds(after)
            group = _execute(self.conn, key_group_sql(self.table, self.window.low, null_key), binds)
            try:
                yield from (b for b in group.fetch_arrow_batches() if b.num_rows)
            finally:
                group.close()
            kind: Literal["key", "null_key"] = "null_key" if null_key else "key"
            cursor = _execute(self.conn, select_sql(self.table, self.window.low, kind), binds)

    def _last_key_group(self, batch: pa.Table) -> tuple[int, dict[str, Any]]:
        """How many rows at the end of `batch` share its last (cursor, key), NULL keys equal to each
        other, and that key as bind values in bronze types."""
        last = conform(batch.slice(batch.num_rows - 1), self.schema)
        cursor_value = last.column(self.table.cursor)[0].as_py()
        key_value = last.column(self.table.primary_key)[0].as_py()
        cursors = batch.column(self.table.cursor)
        keys = batch.column(self.table.primary_key)
        same_cursor = pc.equal(cursors, cursors[-1]).fill_null(False)
        same_key = pc.is_null(keys) if key_value is None else pc.equal(keys, keys[-1]).fill_null(False)
        tail = int(pc.sum(pc.and_(same_cursor, same_key)).as_py() or 0)
        return tail, {"after_cursor": cursor_value, "after_key": key_value}

    def _same_key(self, batch: pa.Table, after: dict[str, Any]) -> bool:
        """Whether `batch` (already handed on) ends with the key `after` names."""
        _, last = self._last_key_group(batch.slice(batch.num_rows - 1))
        return last == after

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
