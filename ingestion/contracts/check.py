"""Per-row contract checks of one Arrow batch: rows that pass, and rows quarantined with their reasons.

The fast path (no row fails, the common case) costs one vectorised mask per expectation and an OR; only the
failing rows are ever touched in Python, to write their reasons.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contracts.drift import Drift
from ingestion.contracts.evaluate import CompiledSuite, SchemaProblem, compiled_suite
from ingestion.schema import Table
from lakeml.core.errors import LakemlError

REASONS = "_reasons"
REASONS_FIELD = pa.field(REASONS, pa.list_(pa.string()))


class ContractDriftError(LakemlError):
    """The batch's columns do not match the contract (missing or retyped), so its rows cannot be judged."""

    def __init__(self, table: str, drift: Drift, schema: str = "RAW") -> None:
        self.table = table
        self.drift = drift
        super().__init__(
            f"table {table}: {drift.describe()} (against the contract in ingestion/contracts/suites/"
            f"{schema.lower()}/{table.lower()}.json); rows cannot be checked. Apply the table's on_drift policy first: "
            "fail the batch, or cast_to_contract() retyped columns; if the source changed on purpose, "
            "update ingestion/schema.py and run `python -m ingestion.contracts.generate`"
        )


@dataclass(frozen=True)
class ContractResult:
    """`good`: the rows that pass, original columns, order kept. `quarantined`: the failing rows' original
    columns plus `_reasons` (list<string>, "code: detail"). len(good) + len(quarantined) == len(batch)."""

    good: pa.Table
    quarantined: pa.Table

    @property
    def reason_counts(self) -> dict[str, int]:
        """Failing rows per reason code (a row with two reasons counts under both), for metrics."""
        if self.quarantined.num_rows == 0:
            return {}
        codes = Counter(
            reason.split(":", 1)[0]
            for reasons in self.quarantined.column(REASONS).to_pylist()
            for reason in reasons
        )
        return dict(sorted(codes.items()))


def check_batch(table: Table, batch: pa.Table | pa.RecordBatch, *, now: datetime) -> ContractResult:
    """Split `batch` by `table`'s committed GX suite into passing and quarantined rows. `table` is a raw
    table (`schema.TABLES`) or an extraction view (`schema.VIEWS`); each has its own suite.

    `now` bounds every timestamp column (rows "from the future" fail); pass the run's start time so every
    batch of a run is judged alike. Columns the contract does not know pass through unchecked (they are
    drift for `schema_drift` and the landing policy to handle); a missing or retyped contract column raises
    `ContractDriftError` naming the columns.
    """
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
    suite = compiled_suite(table.name, table.schema)
    problems = suite.schema_problems(batch.schema)
    if problems:
        raise ContractDriftError(table.name, _as_drift(problems), table.schema)
    return split(suite, batch, {"now": now})


def split(suite: CompiledSuite, batch: pa.Table, params: dict[str, Any]) -> ContractResult:
    """Evaluate the suite's row checks on `batch` and split it (schema already checked by the caller)."""
    masks = suite.masks(batch, params)
    if batch.num_rows == 0 or not masks:
        return ContractResult(good=batch, quarantined=_with_reasons(batch.slice(0, 0), []))
    failing = reduce(pc.or_, (mask for _, _, mask in masks))
    if not pc.any(failing).as_py():
        return ContractResult(good=batch, quarantined=_with_reasons(batch.slice(0, 0), []))
    bad_rows = pc.indices_nonzero(failing)
    reasons: list[list[str]] = [[] for _ in range(len(bad_rows))]
    for exp, rule, mask in masks:
        hits = np.flatnonzero(mask.take(bad_rows).to_numpy(zero_copy_only=False))
        if hits.size == 0:
            continue
        values = batch.column(exp.column).take(bad_rows.take(pa.array(hits))).to_pylist()
        detail, code = rule.detail(exp, params), exp.reason
        for position, value in zip(hits.tolist(), values, strict=True):
            reason = f"{code}: {detail(value)}"
            if reason not in reasons[position]:  # two checks of one rule (email) say it once
                reasons[position].append(reason)
    good = batch.filter(pc.invert(failing))
    quarantined = _with_reasons(batch.take(bad_rows), reasons)
    return ContractResult(good=good, quarantined=quarantined)


def _with_reasons(rows: pa.Table, reasons: list[list[str]]) -> pa.Table:
    return rows.append_column(REASONS_FIELD, pa.array(reasons, type=REASONS_FIELD.type))


def _as_drift(problems: list[SchemaProblem]) -> Drift:
    return Drift(
        added=[p.column for p in problems if p.kind == "added"],
        missing=[p.column for p in problems if p.kind == "missing"],
        retyped=[(p.column, p.expected, p.actual) for p in problems if p.kind == "retyped"],
    )


def empty_quarantine(schema: pa.Schema) -> pa.Table:
    """A zero-row quarantine table for `schema` (the shape `check_batch` returns when nothing fails)."""
    return schema.empty_table().append_column(REASONS_FIELD, pa.array([], type=REASONS_FIELD.type))
