"""Casting retyped columns back to the contract, row by row, for the `on_drift: quarantine_rows` policy.

When the source changes a column's type (LIST_PRICE NUMBER(10,2) -> VARCHAR), most values usually still
read as the old type; those rows land, and only the values that do not cast are quarantined with
`type_mismatch`. Columns already of the contract's type family are left exactly as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contracts.check import REASONS_FIELD, empty_quarantine
from ingestion.contracts.types import arrow_type, family
from ingestion.schema import Table


def cast_to_contract(table: Table, batch: pa.Table | pa.RecordBatch) -> tuple[pa.Table, pa.Table]:
    """(rows whose retyped columns all cast — with those columns in the contract type, failed rows with
    their original values and `_reasons` such as "type_mismatch: LIST_PRICE='abc' is not decimal
    (decimal128(10, 2))"). Every row is in exactly one of the two; order is kept in both."""
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
    contract = {c.name: arrow_type(c.sf_type) for c in table.columns}
    retyped = [
        name
        for name in batch.column_names
        if name in contract and family(batch.schema.field(name).type) != family(contract[name])
    ]
    if not retyped or batch.num_rows == 0:
        cast = _replace(batch, {n: pa.nulls(0, contract[n]) for n in retyped}) if retyped else batch
        return cast, empty_quarantine(batch.schema)

    converted: dict[str, pa.Array] = {}
    ok = np.ones(batch.num_rows, dtype=bool)
    failures: dict[str, np.ndarray] = {}
    for name in retyped:
        values, failed = _cast_column(batch.column(name), contract[name])
        converted[name] = values
        failures[name] = failed
        ok &= ~failed
    keep = pa.array(ok)
    cast = _replace(batch.filter(keep), {n: v.filter(keep) for n, v in converted.items()})
    bad_rows = np.flatnonzero(~ok)
    if bad_rows.size == 0:
        return cast, empty_quarantine(batch.schema)
    reasons: list[list[str]] = [[] for _ in range(bad_rows.size)]
    for name in retyped:
        target = contract[name]
        hits = np.flatnonzero(failures[name][bad_rows])
        originals = batch.column(name).take(pa.array(bad_rows[hits])).to_pylist()
        for position, value in zip(hits.tolist(), originals, strict=True):
            reasons[position].append(
                f"type_mismatch: {name}={value!r} is not {family(target)} ({target})"
                if isinstance(value, str)
                else f"type_mismatch: {name}={value} is not {family(target)} ({target})"
            )
    failed = batch.take(pa.array(bad_rows)).append_column(
        REASONS_FIELD, pa.array(reasons, type=REASONS_FIELD.type)
    )
    return cast, failed


def _cast_column(column: pa.ChunkedArray, target: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """(values cast to `target` — null where the cast failed —, mask of rows whose non-null value failed).

    One vectorised safe cast when every value casts; otherwise value by value (only on drifted batches)."""
    source = column.combine_chunks()
    if pa.types.is_string(source.type) or pa.types.is_large_string(source.type):
        source = pc.utf8_trim_whitespace(source)
    try:
        cast = pc.cast(source, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        cast = None
    if cast is None:
        values: list[Any] = []
        failed = np.zeros(len(source), dtype=bool)
        for i, value in enumerate(source):
            if not value.is_valid:
                values.append(None)
                continue
            try:
                values.append(value.cast(target, safe=True).as_py())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                values.append(None)
                failed[i] = True
        cast = pa.array(values, type=target)
    else:
        failed = np.zeros(len(source), dtype=bool)
    if pa.types.is_floating(source.type) and pa.types.is_decimal(target):
        # Arrow rounds float -> decimal silently (2.125 -> 2.12): a value that does not read back equal
        # would land changed, so it fails instead.
        changed = pc.fill_null(pc.not_equal(pc.cast(cast, source.type), source), False)
        lost = changed.to_numpy(zero_copy_only=False) & ~failed
        if lost.any():
            failed = failed | lost
            cast = pc.if_else(pa.array(lost), pa.nulls(len(cast), target), cast)
    return cast, failed


def _replace(batch: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, values in columns.items():
        index = batch.column_names.index(name)
        field = batch.schema.field(index).with_type(values.type)
        batch = batch.set_column(index, field, values)
    return batch
