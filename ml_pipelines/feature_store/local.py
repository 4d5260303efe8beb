"""Local adapter of the feature store: online SQLite in the state database, offline Parquet in the lake.

- online: one record per id in SQLite — a record only replaces the stored one when its event time is the
  same or newer (SageMaker's online rule), so re-ingesting old snapshots never overwrites a newer one;
- ingested event times: a `feature_ingested` row per event time whose records were all written (what
  incremental ingestion skips, `ml_pipelines.feature_store.incremental`);
- offline: Parquet under the lake (`<lake>/feature_store/<group>/data/`), one file per `put_records`
  call, with SageMaker's extra columns (`write_time`, `api_invocation_time`, `is_deleted`), so it keeps
  every record, like SageMaker's offline store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from lakeml.core import sqlite
from ml_pipelines.feature_store.port import FeatureDefinition, FeatureGroup, FeatureType, SchemaLike
from ml_pipelines.feature_store.records import decode_record, encode_columns, parse_event_time, records_of
from ml_pipelines.feature_store.rules import check_group, definitions_from_spec, mismatch, unknown_group

if TYPE_CHECKING:
    import pandas as pd

    from lakeml.core.lake import LakeStorage

OFFLINE_EXTRA_COLUMNS = ("write_time", "api_invocation_time", "is_deleted")
SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_groups (
    name TEXT PRIMARY KEY, definition TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feature_online (
    group_name TEXT NOT NULL, record_id TEXT NOT NULL, event_time REAL NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (group_name, record_id));
CREATE TABLE IF NOT EXISTS feature_ingested (
    group_name TEXT NOT NULL, event_time TEXT NOT NULL, records INTEGER NOT NULL, marked_at TEXT NOT NULL,
    PRIMARY KEY (group_name, event_time));
"""
ARROW_TYPES: Mapping[FeatureType, pa.DataType] = {
    "Integral": pa.int64(),
    "Fractional": pa.float64(),
    "String": pa.string(),
}


class LocalFeatureStore:
    """The feature store of `lake` (offline) and the state database `db_path` (online, group registry)."""

    def __init__(self, lake: LakeStorage, db_path: Path) -> None:
        self.lake = lake
        self.db_path = db_path
        with sqlite.reading(db_path) as db:
            db.executescript(SCHEMA)

    def describe_group(self, name: str) -> FeatureGroup:
        with sqlite.reading(self.db_path) as db:
            row = db.execute("SELECT definition FROM feature_groups WHERE name = ?", (name,)).fetchone()
            if row is None:
                known = [r[0] for r in db.execute("SELECT name FROM feature_groups ORDER BY name")]
                raise unknown_group(name, known)
        return FeatureGroup.from_api(json.loads(row[0]))

    def ensure_group(
        self, name: str, definitions: Sequence[FeatureDefinition], record_id: str, event_time: str
    ) -> FeatureGroup:
        wanted = FeatureGroup(name, tuple(definitions), record_id, event_time)
        check_group(wanted)
        with sqlite.transaction(self.db_path) as db:
            db.execute(
                "INSERT INTO feature_groups (name, definition, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                (name, json.dumps(wanted.to_json()), datetime.now(UTC).isoformat()),
            )
        existing = self.describe_group(name)
        if existing != wanted:
            raise mismatch(existing, wanted)
        return existing

    def put_records(self, name: str, table: pa.Table | pd.DataFrame, spec: SchemaLike | None = None) -> int:
        if spec is not None:
            self.ensure_group(name, *definitions_from_spec(spec))
        group = self.describe_group(name)
        texts = encode_columns(group, table)  # validate everything before writing anything
        records = list(records_of(texts))
        if not records:
            return 0
        kind = group.types[group.event_time]
        with sqlite.transaction(self.db_path) as db:
            db.executemany(
                # SageMaker's online rule: a record replaces the stored one only if it is not older.
                "INSERT INTO feature_online (group_name, record_id, event_time, record) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(group_name, record_id) DO UPDATE SET event_time = excluded.event_time, "
                "record = excluded.record WHERE excluded.event_time >= feature_online.event_time",
                (
                    (name, record_id, parse_event_time(cast(str, event_time), kind), json.dumps(record))
                    for record_id, event_time, record in zip(
                        texts[group.record_id], texts[group.event_time], records, strict=True
                    )
                ),
            )
            # inside the transaction: a failed offline write leaves the online store unchanged too
            self._write_offline(group, texts, len(records), datetime.now(UTC))
        return len(records)

    def _write_offline(
        self, group: FeatureGroup, texts: dict[str, list[str | None]], rows: int, now: datetime
    ) -> None:
        """One Parquet file per call, typed by the definitions (the record texts cast, as `decode_record`
        reads them), with SageMaker's offline extra columns. Written to a temporary name and renamed, so
        readers never see a partial file."""
        columns = {
            d.name: pa.array(texts[d.name], type=pa.string()).cast(ARROW_TYPES[d.type])
            if d.name in texts
            else pa.nulls(rows, type=ARROW_TYPES[d.type])
            for d in group.definitions
        }
        stamp = pa.array([now] * rows, type=pa.timestamp("us", tz="UTC"))
        columns |= {
            "write_time": stamp,
            "api_invocation_time": stamp,
            "is_deleted": pa.array([False] * rows),
        }
        folder = self.lake.path("feature_store", group.name, "data")
        self.lake.fs.create_dir(folder, recursive=True)
        final = f"{folder}/{now.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:8]}.parquet"
        pq.write_table(pa.table(columns), final + ".tmp", filesystem=self.lake.fs)
        self.lake.fs.move(final + ".tmp", final)

    def get_record(self, name: str, record_id: str | int) -> dict[str, Any] | None:
        group = self.describe_group(name)
        with sqlite.reading(self.db_path) as db:
            row = db.execute(
                "SELECT record FROM feature_online WHERE group_name = ? AND record_id = ?",
                (name, str(record_id)),
            ).fetchone()
        return decode_record(group, json.loads(row[0])) if row else None

    def offline_path(self, name: str) -> str:
        self.describe_group(name)
        return self.lake.uri_of("feature_store", name, "data")

    def ingested_event_times(self, name: str) -> frozenset[str]:
        self.describe_group(name)
        with sqlite.reading(self.db_path) as db:
            rows = db.execute("SELECT event_time FROM feature_ingested WHERE group_name = ?", (name,))
            return frozenset(r[0] for r in rows)

    def mark_ingested(self, name: str, counts: Mapping[str, int]) -> None:
        now = datetime.now(UTC).isoformat()
        with sqlite.transaction(self.db_path) as db:
            db.executemany(
                "INSERT INTO feature_ingested (group_name, event_time, records, marked_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(group_name, event_time) DO UPDATE SET records = excluded.records, "
                "marked_at = excluded.marked_at",
                ((name, event_time, records, now) for event_time, records in counts.items()),
            )
