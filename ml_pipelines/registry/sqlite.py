"""Local adapter of the model registry: groups, versions and approval events in the local state database.

Same semantics as SageMaker (see `port`): versions numbered 1.. per group, Pending unless registered
otherwise, `rules.TRANSITIONS`, the same errors. Version numbers are assigned and status changes applied
inside one IMMEDIATE transaction each (`lakeml.core.sqlite.transaction`), so two concurrent
registrations never get the same number and two approvers never both apply a change from the same status.
ARNs are SageMaker-shaped (`arn:aws:sagemaker:<region>:000000000000:model-package/<group>/<n>`), so the
deploy event and everything that parses an ARN work the same locally.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from lakeml.core import sqlite
from ml_pipelines.registry.port import (
    APPROVED,
    PENDING,
    REJECTED,
    ApprovalEvent,
    ApprovalStatus,
    ModelVersion,
)
from ml_pipelines.registry.rules import (
    LOCAL_ACCOUNT,
    check_decision,
    check_group_name,
    check_registration,
    check_status,
    check_transition,
    newest_approved,
    normalise_metrics,
    now,
    unknown_group,
    unknown_version,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS model_groups (
    name TEXT PRIMARY KEY, description TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS model_versions (
    group_name TEXT NOT NULL REFERENCES model_groups(name), version INTEGER NOT NULL,
    status TEXT NOT NULL, model_data_url TEXT NOT NULL, image_uri TEXT NOT NULL,
    metrics TEXT NOT NULL, metadata TEXT NOT NULL, evaluation_url TEXT, description TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (group_name, version));
CREATE TABLE IF NOT EXISTS model_approval_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, group_name TEXT NOT NULL, version INTEGER NOT NULL,
    from_status TEXT NOT NULL, to_status TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL,
    reason TEXT NOT NULL);
"""


class SqliteModelRegistry:
    """The registry in `path` (the local `state.db`); `region` only shapes the ARNs."""

    def __init__(self, path: Path, region: str = "local") -> None:
        self.path = path
        self.region = region
        with sqlite.reading(path) as db:
            db.executescript(SCHEMA)

    def _arn(self, group: str, version: int) -> str:
        return f"arn:aws:sagemaker:{self.region}:{LOCAL_ACCOUNT}:model-package/{group.lower()}/{version}"

    # ---- groups
    def create_group(self, group: str, description: str = "") -> None:
        check_group_name(group)
        with sqlite.transaction(self.path) as db:
            db.execute(
                "INSERT INTO model_groups (name, description, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                (group, description, now().isoformat()),
            )

    def list_groups(self) -> list[str]:
        with sqlite.reading(self.path) as db:
            return _group_names(db)

    def _require_group(self, db: sqlite3.Connection, group: str) -> None:
        if db.execute("SELECT 1 FROM model_groups WHERE name = ?", (group,)).fetchone() is None:
            raise unknown_group(group, _group_names(db))

    # ---- versions
    def register(
        self,
        group: str,
        model_data_url: str,
        image_uri: str,
        metrics: Mapping[str, Any],
        metadata: Mapping[str, str],
        approval_status: ApprovalStatus = PENDING,
        *,
        evaluation_url: str | None = None,
        description: str = "",
    ) -> ModelVersion:
        check_status(approval_status)
        metrics = normalise_metrics(metrics)
        check_registration(metrics, metadata)
        with sqlite.transaction(self.path) as db:
            self._require_group(db, group)
            version = db.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE group_name = ?", (group,)
            ).fetchone()[0]
            db.execute(
                "INSERT INTO model_versions (group_name, version, status, model_data_url, image_uri, metrics, "
                "metadata, evaluation_url, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    group,
                    version,
                    approval_status,
                    model_data_url,
                    image_uri,
                    json.dumps({k: float(v) for k, v in metrics.items()}),
                    json.dumps(dict(metadata)),
                    evaluation_url,
                    description,
                    now().isoformat(),
                ),
            )
        return self.get(group, version)

    def _row(self, db: sqlite3.Connection, group: str, version: int) -> ModelVersion:
        self._require_group(db, group)
        row = db.execute(
            "SELECT * FROM model_versions WHERE group_name = ? AND version = ?", (group, version)
        ).fetchone()
        if row is None:
            versions = [
                r[0] for r in db.execute("SELECT version FROM model_versions WHERE group_name = ?", (group,))
            ]
            raise unknown_version(group, version, versions)
        return self._version(db, row)

    def _version(self, db: sqlite3.Connection, row: sqlite3.Row) -> ModelVersion:
        last = db.execute(
            "SELECT by, at, reason FROM model_approval_events WHERE group_name = ? AND version = ? "
            "ORDER BY seq DESC LIMIT 1",
            (row["group_name"], row["version"]),
        ).fetchone()
        return ModelVersion(
            group=row["group_name"],
            version=row["version"],
            arn=self._arn(row["group_name"], row["version"]),
            status=row["status"],
            model_data_url=row["model_data_url"],
            image_uri=row["image_uri"],
            metrics=json.loads(row["metrics"]),
            metadata=json.loads(row["metadata"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            evaluation_url=row["evaluation_url"],
            status_by=last["by"] if last else None,
            status_at=datetime.fromisoformat(last["at"]) if last else None,
            status_reason=last["reason"] if last else None,
            description=row["description"],
        )

    def get(self, group: str, version: int) -> ModelVersion:
        with sqlite.reading(self.path) as db:
            return self._row(db, group, version)

    def list_versions(self, group: str) -> list[ModelVersion]:
        with sqlite.reading(self.path) as db:
            self._require_group(db, group)
            rows = db.execute("SELECT * FROM model_versions WHERE group_name = ? ORDER BY version", (group,))
            return [self._version(db, row) for row in rows.fetchall()]

    def champion(self, group: str) -> ModelVersion | None:
        return newest_approved(self.list_versions(group))

    # ---- decisions
    def _decide(self, group: str, version: int, target: ApprovalStatus, by: str, reason: str) -> ModelVersion:
        check_decision(by, reason)
        with sqlite.transaction(self.path) as db:  # read and change under one write lock
            current = self._row(db, group, version)
            check_transition(current, target)
            db.execute(
                "UPDATE model_versions SET status = ? WHERE group_name = ? AND version = ?",
                (target, group, version),
            )
            db.execute(
                "INSERT INTO model_approval_events (group_name, version, from_status, to_status, by, at, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (group, version, current.status, target, by, now().isoformat(), reason),
            )
        return self.get(group, version)

    def approve(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion:
        return self._decide(group, version, APPROVED, by, reason)

    def reject(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion:
        return self._decide(group, version, REJECTED, by, reason)

    def history(self, group: str, version: int) -> list[ApprovalEvent]:
        with sqlite.reading(self.path) as db:
            self._row(db, group, version)
            rows = db.execute(
                "SELECT * FROM model_approval_events WHERE group_name = ? AND version = ? ORDER BY seq",
                (group, version),
            ).fetchall()
        return [
            ApprovalEvent(
                group=r["group_name"],
                version=r["version"],
                from_status=r["from_status"],
                to_status=r["to_status"],
                by=r["by"],
                at=datetime.fromisoformat(r["at"]),
                reason=r["reason"],
            )
            for r in rows
        ]


def _group_names(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM model_groups ORDER BY name")]
