"""Schema drift, the way an upstream team would cause it: a column added, a column retyped.

CUSTOMERS gains PREFERRED_LANGUAGE (and later sign-ups fill it: `GeneratorState.drifted`);
SUPPORT_TICKETS.SATISFACTION_SCORE goes NUMBER(1,0) -> VARCHAR. Some rows of both tables get an
UPDATED_AT at the last moment of the simulated day, so the next ingestion window carries drifted rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ingestion import schema
from lakeml.twins.snowflake.gen.rows import LANGUAGES
from lakeml.twins.snowflake.gen.sql import RAW, Sql
from lakeml.twins.snowflake.gen.state import require_state, write_state
from lakeml.twins.snowflake.gen.updates import count_updated, updatable

DRIFT_ADDED = schema.DRIFT_ADDED_COLUMN
DRIFT_RETYPED = schema.DRIFT_RETYPED_COLUMN


def apply_drift(sql: Sql) -> dict[str, Any]:
    """Drift the source once; a second call changes nothing and reports no changes."""
    state = require_state(sql)
    if state.drifted:
        return {
            "changes": [],
            "note": "the source has drifted already; `lakeml source reset --yes` undoes it",
        }
    stamp = datetime.combine(state.through, datetime.min.time()) + timedelta(
        hours=23, minutes=59, seconds=59, microseconds=900_000
    )
    at = f"TO_TIMESTAMP_NTZ('{stamp.isoformat(sep=' ')}')"
    touched = {
        DRIFT_ADDED[0]: _add_language(sql, at),
        DRIFT_RETYPED[0]: _retype_score(sql, at),
    }
    state.drifted = True
    write_state(sql, state)
    return {
        "changes": [
            {
                "table": DRIFT_ADDED[0],
                "kind": "added",
                "column": DRIFT_ADDED[1],
                "from": None,
                "to": DRIFT_ADDED[2],
            },
            {
                "table": DRIFT_RETYPED[0],
                "kind": "retyped",
                "column": DRIFT_RETYPED[1],
                "from": DRIFT_RETYPED[2],
                "to": DRIFT_RETYPED[3],
            },
        ],
        "rows_updated": touched,
        "updated_at": stamp.isoformat(),
    }


def _add_language(sql: Sql, at: str) -> int:
    table, column, new_type = DRIFT_ADDED
    sql.run(f"ALTER TABLE {RAW}.{table} ADD COLUMN {column} {new_type}")
    languages = " ".join(f"WHEN {i} THEN '{lang}'" for i, lang in enumerate(LANGUAGES))
    return count_updated(
        sql.run(
            f"UPDATE {RAW}.{table} SET {column} = CASE MOD(CUSTOMER_ID, {len(LANGUAGES)}) {languages} END, "
            f"UPDATED_AT = {at} WHERE MOD(CUSTOMER_ID, 10) = 3 AND {updatable('CUSTOMERS', 'CUSTOMER_ID')}"
        )
    )


def _retype_score(sql: Sql, at: str) -> int:
    table, column, _old_type, new_type = DRIFT_RETYPED
    # Snowflake cannot ALTER a NUMBER column to VARCHAR: rebuild the table (CTAS) and rename it.
    columns = sql.columns("RAW", table)
    select = ", ".join(f"CAST({c} AS {new_type}) AS {c}" if c == column else c for c in columns)
    sql.run(f"CREATE OR REPLACE TABLE {RAW}.{table}__DRIFT AS SELECT {select} FROM {RAW}.{table}")
    sql.run(f"DROP TABLE {RAW}.{table}")
    sql.run(f"ALTER TABLE {RAW}.{table}__DRIFT RENAME TO {RAW}.{table}")
    return count_updated(
        sql.run(
            f"UPDATE {RAW}.{table} SET UPDATED_AT = {at} WHERE {column} IS NOT NULL "
            f"AND MOD(TICKET_ID, 10) = 3 AND {updatable(table, 'TICKET_ID')}"
        )
    )
