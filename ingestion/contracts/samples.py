"""Synthetic Arrow batches for any table or view of schema.py: valid rows, and rows that break each
expectation.

Tests, the benchmark and the GX equivalence check build their batches here, straight from the schema and
the committed suite, so a column added to schema.py is exercised without touching them. Not used by
ingestion itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contracts.drift import contract_schema
from ingestion.contracts.evaluate import Expectation, compiled_suite
from ingestion.contracts.types import family
from ingestion.schema import Column, Table

NULL_SHARE = 0.1  # nullable columns get this share of nulls: evaluators must skip them


def valid_batch(table: Table, rows: int, *, now: datetime, seed: int = 0) -> pa.Table:
    """`rows` rows that pass every expectation of `table`'s suite (nullable columns partly null)."""
    rng = np.random.default_rng(seed)
    schema = contract_schema(table)
    columns = []
    for column in table.columns:
        t = schema.field(column.name).type
        values = _values(column, t, rows, now, rng, column.name == table.primary_key)
        if column.nullable and rows:
            values = pc.if_else(pa.array(rng.random(rows) < NULL_SHARE), pa.nulls(rows, t), values)
        columns.append(values)
    return pa.Table.from_arrays(columns, schema=schema)


def _values(
    column: Column, t: pa.DataType, rows: int, now: datetime, rng: np.random.Generator, is_key: bool
) -> pa.Array:
    name, enum, kind = column.name, column.enum, family(t)
    low = 0.0 if column.minimum is None else float(column.minimum)
    if kind == "integer":
        if is_key:
            return pa.array(np.arange(1, rows + 1, dtype=np.int64))
        return pa.array(rng.integers(int(np.ceil(low)), int(np.ceil(low)) + 1000, rows, dtype=np.int64))
    if kind == "decimal":
        cents = np.round(rng.uniform(low, low + 500, rows), t.scale)
        return pa.array(cents).cast(t)
    if kind == "float":
        return pa.array(rng.uniform(low, low + 500, rows))
    if kind == "string":
        if enum:
            return pa.array(np.asarray(enum, dtype=object)[rng.integers(0, len(enum), rows)], pa.string())
        if name == "EMAIL":
            return pa.array([f"user{i}@example.com" for i in range(rows)], pa.string())
        if column.email_derived == "sha256":
            digests = (hashlib.sha256(f"user{i}@example.com".encode()).hexdigest() for i in range(rows))
            return pa.array(list(digests), pa.string())
        return pa.array([f"{name.lower()}-{i}" for i in range(rows)], pa.string())
    if kind in ("timestamp", "timestamp_tz"):
        utc_now = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
        start = np.datetime64(utc_now, "us") - np.timedelta64(400 * 86_400, "s")
        offsets = rng.integers(0, 400 * 86_400, rows).astype("timedelta64[s]")
        return pa.array(start + offsets, pa.timestamp(t.unit)).cast(t)  # zoned: the same instants, in UTC
    if kind == "boolean":
        if column.email_derived == "valid":  # a verdict: a valid row says true
            return pa.array(np.ones(rows, dtype=bool))
        return pa.array(rng.random(rows) < 0.5)
    raise NotImplementedError(f"samples.valid_batch has no generator for column {name} of type {t}")


@dataclass(frozen=True)
class PlantedRow:
    """A row made to fail `reason` (an expectation's meta.reason) on `column`."""

    row: int
    column: str
    reason: str


def plant_bad_rows(
    table: Table, batch: pa.Table, *, now: datetime, multi: bool = True
) -> tuple[pa.Table, list[PlantedRow]]:
    """Break one row per row expectation of the suite (rows 0, 1, …, in suite order); with `multi`, also
    break every expectation of one column in the *same* extra row (several reasons on one row)."""
    suite = compiled_suite(table.name, table.schema)
    planted: list[PlantedRow] = []
    columns = {name: batch.column(name).to_pylist() for name in batch.column_names}
    row = 0
    for exp, _ in suite.row_checks:
        columns[exp.column][row] = _bad_value(exp, batch.schema.field(exp.column).type, now)
        planted.append(PlantedRow(row, exp.column, exp.reason))
        row += 1
    if multi:
        for exp, _ in suite.row_checks:
            if exp.type == "expect_column_values_to_not_be_null":
                continue  # a null fails nothing else; plant one wrong value per other column instead
            if any(p.row == row and p.column == exp.column for p in planted):
                continue
            columns[exp.column][row] = _bad_value(exp, batch.schema.field(exp.column).type, now)
            planted.append(PlantedRow(row, exp.column, exp.reason))
        row += 1
    if row > batch.num_rows:
        raise ValueError(f"plant_bad_rows needs at least {row} rows, got {batch.num_rows}")
    rebuilt = pa.Table.from_pydict(columns, schema=batch.schema)
    return rebuilt, planted


def _bad_value(exp: Expectation, t: pa.DataType, now: datetime) -> Any:
    if exp.type == "expect_column_values_to_not_be_null":
        return None
    if exp.type == "expect_column_values_to_be_in_set":
        if pa.types.is_boolean(t):
            return not exp.kwargs["value_set"][0]
        return "not_a_" + exp.column.lower()
    if exp.type == "expect_column_values_to_match_regex":
        return "foo@"
    if exp.type == "expect_column_values_to_not_match_regex":
        return "foo@example.com\n"
    if exp.type == "expect_column_values_to_be_between":
        if exp.kwargs.get("max_value") is not None:
            return now.replace(tzinfo=None) + timedelta(days=5 * 365)
        low = exp.kwargs["min_value"]
        if family(t) == "decimal":
            from decimal import Decimal

            return Decimal(str(low)) - Decimal(1) / Decimal(10**t.scale) - Decimal(12)
        return low - 1
    raise NotImplementedError(f"plant_bad_rows has no bad value for {exp.type}")
