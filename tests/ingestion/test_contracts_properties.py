"""check_batch agrees, row by row, with a plain-Python reading of schema.py on arbitrary batches.

A second, independent statement of the contract (no suite, no Arrow kernels): for random rows mixing
valid values, bad values and nulls in every column, the set of reason codes check_batch gives each row is
exactly what the oracle derives from `Column.nullable/enum/minimum`, the key, timestamps and EMAIL.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.contracts import REASONS, check_batch, contract_schema
from ingestion.contracts.types import family
from ingestion.schema import CUSTOMERS, ORDERS, Table

NOW = datetime(2026, 11, 27, 6, 0, 0)
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def value_strategy(table: Table, name: str) -> st.SearchStrategy[Any]:
    column = table.column(name)
    t = contract_schema(table).field(name).type
    kind = family(t)
    options: list[st.SearchStrategy[Any]] = [st.none()]
    if kind == "integer":
        options.append(st.integers(-5, 3000))
    elif kind == "decimal":
        options.append(st.decimals(-50, 500, places=t.scale, allow_nan=False, allow_infinity=False))
    elif kind == "timestamp":
        options.append(
            st.datetimes(NOW - timedelta(days=30), NOW + timedelta(days=30)).map(
                lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
            )
        )
        options.append(st.sampled_from([NOW, NOW + timedelta(microseconds=1)]))
    elif kind == "boolean":
        options.append(st.booleans())
    elif column.enum:
        options.append(st.sampled_from([*column.enum, "Web", "", "unknown"]))
    elif name == "EMAIL":
        options += [
            st.emails(),
            st.text(max_size=12),
            st.sampled_from(["a@b.co", "a@b.co\n", "a b@c.de", "ünal@x.io", "x@y", "o'brien@x.ie"]),
        ]
    else:
        options.append(st.text(max_size=8))
    return st.one_of(*options)


def oracle(table: Table, row: dict[str, Any]) -> set[str]:
    codes = set()
    for column in table.columns:
        value = row[column.name]
        if value is None:
            if not column.nullable:
                codes.add("null_primary_key" if column.name == table.primary_key else "null_required")
            continue
        if column.enum is not None and value not in column.enum:
            codes.add("unknown_enum")
        if column.minimum is not None and value < column.minimum:
            codes.add("negative_amount" if column.minimum == 0 else "below_minimum")
        if isinstance(value, datetime) and value > NOW:
            codes.add("future_timestamp")
        if column.name == "EMAIL" and not EMAIL.fullmatch(value):
            codes.add("malformed_email")
    return codes


def rows_strategy(table: Table) -> st.SearchStrategy[list[dict[str, Any]]]:
    row = st.fixed_dictionaries({name: value_strategy(table, name) for name in table.column_names})
    return st.lists(row, min_size=1, max_size=25)


def check_against_oracle(table: Table, rows: list[dict[str, Any]]) -> None:
    batch = pa.Table.from_pylist(rows, schema=contract_schema(table))
    batch = batch.append_column("ROW", pa.array(range(len(rows))))
    result = check_batch(table, batch, now=NOW)

    got: dict[int, set[str]] = {}
    for row, reasons in zip(
        result.quarantined.column("ROW").to_pylist(),
        result.quarantined.column(REASONS).to_pylist(),
        strict=True,
    ):
        got[row] = {r.split(":", 1)[0] for r in reasons}
    expected = {i: codes for i, row in enumerate(rows) if (codes := oracle(table, row))}
    assert got == expected
    assert result.good.column("ROW").to_pylist() == [i for i in range(len(rows)) if i not in expected]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy(ORDERS))
def test_orders_rows_get_exactly_the_reasons_schema_py_implies(rows: list[dict[str, Any]]) -> None:
    check_against_oracle(ORDERS, rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy(CUSTOMERS))
def test_customers_rows_get_exactly_the_reasons_schema_py_implies(rows: list[dict[str, Any]]) -> None:
    check_against_oracle(CUSTOMERS, rows)


def test_oracle_sees_decimals_as_numbers() -> None:
    assert oracle(ORDERS, {c: None for c in ORDERS.column_names} | {"NET_AMOUNT": Decimal("-0.01")}) >= {
        "negative_amount"
    }
