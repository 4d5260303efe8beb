"""The Snowflake-side extraction views, built for real by dbt-snowflake against the local server."""

from __future__ import annotations

import hashlib

import pytest

pytestmark = pytest.mark.slow


def test_extraction_views_build_in_the_local_snowflake_with_emails_hashed(lakeml) -> None:
    seeded = lakeml("--json", "source", "seed", "--customers", "40", "--days", "10")
    assert seeded.code == 0, seeded
    result = lakeml("--json", "transform", "--snowflake")
    assert result.code == 0, result
    doc = result.json
    assert doc["target"] == "snowflake_local"
    assert doc["models"] == 5 and doc["failed"] == [] and doc["passed"] == doc["tests"] > 0

    from lakeml.settings import load_settings
    from lakeml.source.connection import connect

    with connect(load_settings()) as conn:
        cursor = conn.cursor()
        cursor.execute(
            "select r.EMAIL, e.EMAIL, e.FIRST_NAME, e.LAST_NAME from RETAIL.RAW.CUSTOMERS r "
            "join RETAIL.EXTRACT.CUSTOMERS e on e.CUSTOMER_ID = r.CUSTOMER_ID where r.EMAIL is not null"
        )
        rows = cursor.fetchall()
        cursor.execute("select count(*) from RETAIL.EXTRACT.ORDERS")
        (orders,) = cursor.fetchall()[0]
    assert len(rows) > 0 and orders > 0
    for raw, hashed, first, last in rows:
        assert hashed == hashlib.sha256(raw.strip().lower().encode()).hexdigest()
        assert first is None and last is None
