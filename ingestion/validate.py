"""Validation of one window's chunks: what lands in bronze and what goes to quarantine, with the reason.

Per chunk, in order: drop rows already landed at the low bound, set aside extra copies of a (key, cursor)
pair, then the per-row contract. For every chunk and for the run: extracted = landed + quarantined, or
the run stops uncommitted (`AccountingError`): rows are never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.config import TableConfig
from ingestion.extract import Window
from ingestion.landing import REASONS, quarantine_schema
from ingestion.manifest import FileRecord
from lakeml.core.errors import LakemlError

DUPLICATE_REASON = "duplicate_primary_key"


class AccountingError(LakemlError):
    """extracted != landed + quarantined: a bug, never a data problem. The run stops uncommitted."""


@dataclass
class Validated:
    """One validated chunk: rows to land, rows to quarantine (with `_reasons`), rows it came from."""

    good: pa.Table
    quarantined: pa.Table
    extracted: int


@dataclass
class Validator:
    """Per-chunk checks (see the module docstring). Keeps the cross-chunk state the set checks need."""

    table: TableConfig
    schema: pa.Schema
    window: Window
    keys_at_low: frozenset[str]
    now: datetime
    contract: Any  # ingestion.schema.Table (raw table or extraction view) when contracts are on
    drift_reason: str | None = None
    # on_drift quarantine_rows with only retyped columns: cast them back and land what casts, in this schema
    cast_to: pa.Schema | None = None
    skipped: int = 0
    extracted: int = 0
    landed: int = 0
    quarantined: int = 0
    keys_at_high: set[str] = field(default_factory=set)
    min_cursor: datetime | None = None
    max_cursor: datetime | None = None
    batches: list[tuple[int, int, int]] = field(default_factory=list)
    _last: tuple[Any, Any] | None = None

    def __call__(self, chunk: pa.Table) -> Validated:
        cursor = chunk.column(self.table.cursor)
        key_text = pc.cast(chunk.column(self.table.primary_key), pa.string())
        if self.window.low is not None and self.keys_at_low:
            seen = pc.and_(
                pc.equal(cursor, pa.scalar(self.window.low, cursor.type)),
                pc.is_in(key_text, value_set=pa.array(sorted(self.keys_at_low), pa.string())),
            ).fill_null(False)
            already = pc.sum(seen).as_py() or 0
            if already:
                self.skipped += already
                keep = pc.invert(seen)
                chunk, cursor, key_text = chunk.filter(keep), cursor.filter(keep), key_text.filter(keep)
        extracted = chunk.num_rows
        if extracted:
            self._track(chunk, cursor, key_text)
        if self.drift_reason is not None and self.cast_to is None:
            good = chunk.slice(0, 0)
            bad = with_reasons(chunk, [self.drift_reason]).cast(quarantine_schema(self.schema))
        else:
            uncast = None
            if self.cast_to is not None:
                from ingestion.contracts import cast_to_contract

                chunk, uncast = cast_to_contract(self.contract, chunk)
            duplicate = self._duplicates(chunk)
            copies = chunk.filter(duplicate)
            rest = chunk.filter(pc.invert(duplicate))
            good, bad = self._contract(rest)
            parts = [bad]
            if copies.num_rows:
                parts.insert(0, with_reasons(copies, [DUPLICATE_REASON]))
            if uncast is not None and uncast.num_rows:
                parts.insert(0, uncast)
            # quarantine keeps the source's own types (a retyped value may not fit the old type)
            bad = pa.concat_tables([p.cast(quarantine_schema(self.schema)) for p in parts])
        if good.num_rows + bad.num_rows != extracted:
            raise AccountingError(
                f"table {self.table.name} run {self.window.run_id}: chunk extracted {extracted} rows but "
                f"landed {good.num_rows} + quarantined {bad.num_rows}; the run was stopped uncommitted"
            )
        self.extracted += extracted
        self.landed += good.num_rows
        self.quarantined += bad.num_rows
        self.batches.append((extracted, good.num_rows, bad.num_rows))
        return Validated(good, bad, extracted)

    def _track(self, chunk: pa.Table, cursor: pa.ChunkedArray, key_text: pa.ChunkedArray) -> None:
        bounds = pc.min_max(cursor)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None and (self.min_cursor is None or low < self.min_cursor):
            self.min_cursor = low
        if high is not None and (self.max_cursor is None or high > self.max_cursor):
            self.max_cursor = high
        at_high = pc.equal(cursor, pa.scalar(self.window.high, cursor.type)).fill_null(False)
        if pc.any(at_high).as_py():
            self.keys_at_high.update(k for k in key_text.filter(at_high).to_pylist() if k is not None)

    def _duplicates(self, chunk: pa.Table) -> pa.Array:
        """True for the 2nd, 3rd… copy of a (key, cursor) pair. The stream is ordered by (cursor, key),
        so copies are adjacent; the last row of the previous chunk is carried to catch split pairs."""
        if chunk.num_rows == 0:
            return pa.array([], pa.bool_())
        keys = chunk.column(self.table.primary_key).combine_chunks()
        cursors = chunk.column(self.table.cursor).combine_chunks()
        if self._last is not None:
            prev_keys = pa.concat_arrays([pa.array([self._last[0]], keys.type), keys.slice(0, len(keys) - 1)])
            prev_cur = pa.concat_arrays(
                [pa.array([self._last[1]], cursors.type), cursors.slice(0, len(cursors) - 1)]
            )
        else:
            prev_keys = pa.concat_arrays([pa.nulls(1, keys.type), keys.slice(0, len(keys) - 1)])
            prev_cur = pa.concat_arrays([pa.nulls(1, cursors.type), cursors.slice(0, len(cursors) - 1)])
        self._last = (keys[-1].as_py(), cursors[-1].as_py())
        same = pc.and_(pc.equal(keys, prev_keys), pc.equal(cursors, prev_cur))
        return same.fill_null(False)

    def _contract(self, rows: pa.Table) -> tuple[pa.Table, pa.Table]:
        from ingestion.contracts import check_batch

        landed = self.cast_to or self.schema
        if self.contract is None:
            return rows.cast(landed), with_reasons(rows.slice(0, 0), [])
        result = check_batch(self.contract, rows, now=self.now)
        return result.good.select(landed.names).cast(landed), result.quarantined


def with_reasons(rows: pa.Table, reasons: list[str]) -> pa.Table:
    column = pa.array([reasons] * rows.num_rows, pa.list_(pa.string()))
    return rows.append_column(REASONS, column)


def reason_counts(quarantined: pa.Table) -> str:
    """`reason: n, …` over a quarantined batch, most frequent first."""
    reasons = pc.list_flatten(quarantined.column(REASONS))
    counts = pc.value_counts(reasons).to_pylist()
    return ", ".join(f"{c['values']}: {c['counts']}" for c in sorted(counts, key=lambda c: -c["counts"]))


def check_accounting(
    validator: Validator, files: Sequence[FileRecord], quarantine_files: Sequence[FileRecord]
) -> None:
    """The run's totals agree with each other and with the parts written, or the run stops uncommitted."""
    in_files = sum(f.rows for f in files)
    in_quarantine = sum(f.rows for f in quarantine_files)
    if (
        validator.extracted != validator.landed + validator.quarantined
        or in_files != validator.landed
        or in_quarantine != validator.quarantined
    ):
        raise AccountingError(
            f"table {validator.table.name} run {validator.window.run_id}: extracted {validator.extracted}, "
            f"landed {validator.landed} ({in_files} in parts), quarantined {validator.quarantined} "
            f"({in_quarantine} in parts); the run was stopped before its manifest"
        )
