"""Local adapter of the watermark port: one row per table in `<home>/state.db`.

SQLite because the local twin must give the same guarantee as DynamoDB's conditional write with nothing
to run: the compare-and-set reads and writes inside one IMMEDIATE transaction (`lakeml.core.sqlite`), so
two processes racing from the same value cannot both advance.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingestion.watermarks.port import Watermark, WatermarkConflict
from lakeml.core import sqlite


class SqliteWatermarkStore:
    """`WatermarkStore` on a SQLite file; the value is the watermark's JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite.transaction(path) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS watermarks (table_name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )

    def get(self, table: str) -> Watermark | None:
        with sqlite.reading(self.path) as db:
            row = db.execute("SELECT value FROM watermarks WHERE table_name = ?", (table,)).fetchone()
        return Watermark.from_json(json.loads(row[0])) if row else None

    def advance(self, table: str, expected: Watermark | None, new: Watermark) -> None:
        with sqlite.transaction(self.path) as db:
            row = db.execute("SELECT value FROM watermarks WHERE table_name = ?", (table,)).fetchone()
            current = Watermark.from_json(json.loads(row[0])) if row else None
            if current != expected:
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

    def clear(self, table: str) -> None:
        with sqlite.transaction(self.path) as db:
            db.execute("DELETE FROM watermarks WHERE table_name = ?", (table,))
