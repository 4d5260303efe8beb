"""The watermark port: where an ingestion run records how far it got, and the conditional write that
moves it.

Advancing only succeeds from the value the caller last read, so two concurrent runs can never both
advance the same table: the loser gets `WatermarkConflict` and its (already written, deterministic)
files are simply rewritten by the next run of that window. The Protocol and its value types live here,
apart from both adapters, so ingestion depends on the contract and never on SQLite or DynamoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lakeml.core.errors import LakemlError


class WatermarkConflict(LakemlError):
    """The stored watermark is no longer what this run read: another run advanced it first."""


@dataclass(frozen=True)
class Watermark:
    """The high end of the last committed window. `keys_at_cursor` are the primary keys of rows whose
    cursor equals `cursor`: the next window starts at `cursor` inclusive and skips exactly these keys,
    so a row committed late with the same timestamp is taken, and none is taken twice."""

    cursor: datetime
    keys_at_cursor: tuple[str, ...]
    run_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor.isoformat(),
            "keys_at_cursor": list(self.keys_at_cursor),
            "run_id": self.run_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Watermark:
        return cls(
            cursor=datetime.fromisoformat(data["cursor"]),
            keys_at_cursor=tuple(data.get("keys_at_cursor", ())),
            run_id=data["run_id"],
        )


class WatermarkStore(Protocol):
    """Per-table watermarks with a compare-and-set advance (SQLite locally, DynamoDB on AWS)."""

    def get(self, table: str) -> Watermark | None: ...

    def advance(self, table: str, expected: Watermark | None, new: Watermark) -> None:
        """Store `new` if the stored value is still `expected`; else raise WatermarkConflict."""
        ...

    def clear(self, table: str) -> None:
        """Forget the table's watermark (the next run extracts from the beginning)."""
        ...
