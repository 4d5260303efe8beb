"""Local adapter of the notifications port: a table in LAKEML_HOME's state.db, read by
`lakeml notifications`. Nothing leaves the machine."""

from __future__ import annotations

import json
from pathlib import Path

from lakeml.core import sqlite
from lakeml.notify.port import Notification, Sent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    severity TEXT NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL
)
"""


class LocalNotifier:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        with sqlite.transaction(db_path) as db:
            db.execute(_SCHEMA)

    def notify(self, notification: Notification) -> Sent:
        with sqlite.transaction(self.db_path) as db:
            cursor = db.execute(
                "INSERT INTO notifications (at, severity, source, body) VALUES (?, ?, ?, ?)",
                (
                    notification.at.isoformat(),
                    notification.severity,
                    notification.source,
                    notification.model_dump_json(),
                ),
            )
        return Sent(id=str(cursor.lastrowid), destination=f"{self.db_path}#notifications")

    def recent(self, limit: int = 20) -> list[Notification]:
        with sqlite.reading(self.db_path) as db:
            rows = db.execute("SELECT body FROM notifications ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Notification.model_validate(json.loads(row["body"])) for row in rows]
