"""How far each table's ingestion has got, and the conditional write that moves it.

Advancing only succeeds from the value the caller last read, so two concurrent runs can never both
advance the same table: the loser gets `WatermarkConflict` and its (already written, deterministic)
files are simply rewritten by the next run of that window.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings


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
    def get(self, table: str) -> Watermark | None: ...

    def advance(self, table: str, expected: Watermark | None, new: Watermark) -> None:
        """Store `new` if the stored value is still `expected`; else raise WatermarkConflict."""
        ...

    def clear(self, table: str) -> None:
        """Forget the table's watermark (the next run extracts from the beginning)."""
        ...


class SqliteWatermarkStore:
    """Local adapter: one row per table; the compare-and-set happens inside one IMMEDIATE transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS watermarks (table_name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def get(self, table: str) -> Watermark | None:
        with self._connect() as db:
            row = db.execute("SELECT value FROM watermarks WHERE table_name = ?", (table,)).fetchone()
        return Watermark.from_json(json.loads(row[0])) if row else None

    def advance(self, table: str, expected: Watermark | None, new: Watermark) -> None:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT value FROM watermarks WHERE table_name = ?", (table,)).fetchone()
            current = Watermark.from_json(json.loads(row[0])) if row else None
            if current != expected:
                db.execute("ROLLBACK")
                raise WatermarkConflict(
                    f"watermark of {table} moved to {current.run_id if current else None!r} while this run "
                    f"expected {expected.run_id if expected else None!r}; another run committed first. "
                    "Re-run `lakeml ingest` to continue from the new value."
                )
            db.execute(
                "INSERT INTO watermarks (table_name, value) VALUES (?, ?) "
                "ON CONFLICT(table_name) DO UPDATE SET value = excluded.value",
                (table, json.dumps(new.to_json())),
            )
            db.execute("COMMIT")
        finally:
            db.close()

    def clear(self, table: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM watermarks WHERE table_name = ?", (table,))


def watermark_store(settings: Settings) -> WatermarkStore:
    """The one switch between the local and the AWS adapter."""
    if settings.env == "local":
        return SqliteWatermarkStore(settings.state_db)
    from ingestion.aws_adapters import DynamoWatermarkStore

    return DynamoWatermarkStore(
        settings.aws.watermark_table, region=settings.aws.region, endpoint_url=settings.aws.endpoint_url
    )
