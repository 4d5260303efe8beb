"""The local Snowflake returns NULL timestamps as NULL (fakesnow alone sends epoch 0), like Snowflake."""

from __future__ import annotations

from lakeml.core.settings import load_settings
from lakeml.twins.snowflake.connection import connect


def test_null_timestamps_come_back_as_null_through_the_real_connector(home):
    with connect(load_settings()) as conn:
        cursor = conn.cursor()
        cursor.execute("CREATE DATABASE IF NOT EXISTS T")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS T.PUBLIC")
        cursor.execute("CREATE OR REPLACE TABLE T.PUBLIC.EVENTS (ID INT, SEEN_AT TIMESTAMP_NTZ)")
        cursor.execute("INSERT INTO T.PUBLIC.EVENTS VALUES (1, '2026-01-02 03:04:05'), (2, NULL)")
        assert cursor.execute("SELECT ID, SEEN_AT FROM T.PUBLIC.EVENTS ORDER BY ID").fetchall()[1] == (
            2,
            None,
        )
        cursor.execute("SELECT ID, SEEN_AT FROM T.PUBLIC.EVENTS ORDER BY ID")
        assert cursor.fetch_arrow_all().column("SEEN_AT").null_count == 1
