"""Schema drift: columns added, missing or retyped between the schema a table had and the one a batch has.

Types are compared by family (`ingestion.contracts.types.family`): int64 vs decimal(38,0) is the same
integer column, decimal(10,2) vs decimal(12,2) the same money column; decimal vs string or float, int vs
decimal(10,2), naive vs zoned timestamp are retypes. Names are compared exactly (Snowflake upper-cases
unquoted identifiers, so a case change is a real rename).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from ingestion.contracts.types import arrow_type, family
from ingestion.schema import Table


@dataclass(frozen=True)
class Drift:
    """How `actual` departs from `expected`. `retyped` holds (column, old type, new type)."""

    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.missing or self.retyped)

    @property
    def columns(self) -> list[str]:
        """Every drifted column, for messages and metrics."""
        return [*(c for c, _, _ in self.retyped), *self.added, *self.missing]

    def describe(self) -> str:
        """One sentence naming the columns, e.g. "column LIST_PRICE changed type decimal128(10, 2) -> string;
        column PREFERRED_LANGUAGE was added"; "no schema drift" when empty."""
        parts = [f"column {c} changed type {old} -> {new}" for c, old, new in self.retyped]
        parts += [f"column {c} was added" for c in self.added]
        parts += [f"column {c} is missing" for c in self.missing]
        return "; ".join(parts) if parts else "no schema drift"

    def to_dict(self) -> dict[str, object]:
        return {"added": self.added, "missing": self.missing, "retyped": [list(r) for r in self.retyped]}


def schema_drift(expected: pa.Schema | None, actual: pa.Schema) -> Drift:
    """Compare a batch's schema with the expected one (the last manifest's, or `contract_schema(table)`).

    `expected=None` means there is nothing to compare with yet (a table's first run): no drift. Columns are
    listed in the order they appear in `actual` (added, retyped) and `expected` (missing).
    """
    if expected is None:
        return Drift()
    before = {f.name: f.type for f in expected}
    after = {f.name: f.type for f in actual}
    return Drift(
        added=[name for name in after if name not in before],
        missing=[name for name in before if name not in after],
        retyped=[
            (name, str(before[name]), str(t))
            for name, t in after.items()
            if name in before and family(before[name]) != family(t)
        ],
    )


def contract_schema(table: Table) -> pa.Schema:
    """The Arrow schema bronze expects for `table` (from schema.py): the baseline before any manifest.

    Every field is nullable: a null in a required column is a row to quarantine (the suite's not-null
    expectation), not a batch that cannot even be built or cast."""
    return pa.schema([pa.field(c.name, arrow_type(c.sf_type)) for c in table.columns])
