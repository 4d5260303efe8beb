"""Keyset pages against the local Snowflake: whatever the page size, a window is read exactly once, in
order, including exact copies split by a page boundary and rows whose key is NULL."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ingestion.config import load_sources
from ingestion.extract import Stream, Window
from tests.ingestion.conftest import at


def orders(tmp_path: Path, page_rows: int, chunk_rows: int = 4):
    path = tmp_path / f"sources-{page_rows}.yml"
    path.write_text(
        f"tables:\n  ORDERS: {{page_rows: {page_rows}, chunk_rows: {chunk_rows}, contract: false}}\n"
    )
    return load_sources(path).table("ORDERS")


def read(source: Any, table: Any, low=None) -> tuple[list[tuple[Any, Any]], Stream]:
    stream = Stream(source.conn, table, Window("ORDERS", low, at(120), "incremental"))
    rows = pa.concat_tables(stream.chunks())
    return list(
        zip(rows.column("ORDER_ID").to_pylist(), rows.column("UPDATED_AT").to_pylist(), strict=True)
    ), stream


@pytest.fixture
def awkward(source: Any) -> Any:
    """17 orders over 3 cursor values, exact copies of 4 of them (order 2 four times), 3 NULL-key rows."""
    source.add_orders(17, at(60), spread_minutes=3)
    for order_id in (1, 2, 2, 6, 9):
        source.duplicate_order(order_id)
    for _ in range(2):
        source.sql(
            "INSERT INTO RETAIL.RAW.ORDERS SELECT NULL, 1, %(ts)s, 'web', 'placed', 1, 1, 0, 1, %(ts)s",
            {"ts": at(59)},
        )
    source.sql(
        "INSERT INTO RETAIL.RAW.ORDERS SELECT NULL, 1, %(ts)s, 'web', 'placed', 1, 1, 0, 1, %(ts)s",
        {"ts": at(60)},
    )
    return source


@pytest.mark.parametrize("page_rows", [1, 2, 3, 5, 8])
def test_every_row_is_read_once_in_order_whatever_the_page_size(awkward, tmp_path, page_rows):
    expected, whole = read(awkward, orders(tmp_path, page_rows=0))
    assert whole.pages == 1 and len(expected) == 17 + 6 + 3
    got, paged = read(awkward, orders(tmp_path, page_rows=page_rows))
    assert Counter(got) == Counter(expected)
    assert paged.pages > 1
    cursors = [ts for _, ts in got]
    assert cursors == sorted(cursors)
    for i in range(1, len(got)):  # copies stay adjacent, so the duplicate check sees them together
        if got[i][0] is not None and got[i] in got[:i]:
            assert got[i - 1] == got[i]


def test_pages_continue_from_the_watermark_bound(awkward, tmp_path):
    expected, _ = read(awkward, orders(tmp_path, page_rows=0), low=at(59))
    got, paged = read(awkward, orders(tmp_path, page_rows=2), low=at(59))
    assert Counter(got) == Counter(expected) and paged.pages > 1
    assert all(ts >= at(59) for _, ts in got)


@pytest.mark.parametrize("page_rows", [2, 5])
def test_pages_are_key_ranges_between_bounds_numbered_once(awkward, tmp_path, page_rows):
    """One query numbers the window and returns every page_rows-th (cursor, key); each page is the range
    between two bounds, so a page query costs its own rows (no LIMIT re-sorting the rest of the window)."""
    _, paged = read(awkward, orders(tmp_path, page_rows=page_rows))
    bounds = [(ts, math.inf if key is None else key) for ts, key in paged.bounds]  # NULL keys last
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)
    assert paged.pages == len(paged.bounds) + 1
    assert len(paged.bounds) <= (17 + 6 + 3) // page_rows
