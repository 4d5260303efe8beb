"""The Snowflake-side extraction views, built for real by dbt-snowflake against the local server: they
expose exactly the columns and types of schema.py's VIEWS, hash the e-mail, and judge it by the same rule
as the ingestion contract."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pyarrow as pa
import pytest

pytestmark = pytest.mark.slow

# Addresses the two rules could disagree on (anchoring, a final newline, non-ASCII, quotes, padding).
TRICKY_EMAILS = [
    "ann.lee+shop@mail.example.co",
    "o'brien@example.ie",
    "Mixed.Case@Example.COM",
    "  Padded@Example.COM ",
    "ann@example.com\n",
    "\nann@example.com",
    "ünal@example.com",
    "ann@example.c",
    "ann@@example.com",
    "ann@example..com",
    "ann at example.com",
    "ann@",
    "",
    None,
]
FIRST_PLANTED = 900_001


def _plant(conn) -> None:
    """Customers with the tricky addresses, next to the generated ones."""
    with conn.cursor() as cur:
        for i, email in enumerate(TRICKY_EMAILS):
            cur.execute(
                "INSERT INTO RETAIL.RAW.CUSTOMERS (CUSTOMER_ID, EMAIL, FIRST_NAME, LAST_NAME, BIRTH_YEAR, "
                "SIGNUP_AT, SIGNUP_CHANNEL, REGION, LOYALTY_TIER, MARKETING_OPT_IN, UPDATED_AT) VALUES "
                "(%(id)s, %(email)s, 'Ann', 'Lee', 1980, %(ts)s, 'web', 'north', 'gold', true, %(ts)s)",
                {"id": FIRST_PLANTED + i, "email": email, "ts": datetime(2025, 1, 1)},
            )


def test_extraction_views_build_with_the_columns_of_schema_py_and_the_email_hashed_and_judged(
    lakeml,
) -> None:
    from ingestion.contracts import check_batch, contract_schema
    from ingestion.contracts.samples import valid_batch
    from ingestion.extract import result_schema
    from ingestion.schema import CUSTOMERS, VIEWS
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.connection import connect

    seeded = lakeml("--json", "source", "seed", "--customers", "40", "--days", "10")
    assert seeded.code == 0, seeded
    with connect(load_settings()) as conn:
        _plant(conn)
    result = lakeml("--json", "transform", "--snowflake")
    assert result.code == 0, result
    doc = result.json
    assert doc["target"] == "snowflake_local"
    assert doc["models"] == 5 and doc["failed"] == [] and doc["passed"] == doc["tests"] > 0

    with connect(load_settings()) as conn, conn.cursor() as cursor:
        for name, view in VIEWS.items():  # what ingestion will read: bronze types from result metadata
            cursor.execute(f"SELECT * FROM RETAIL.EXTRACT.{name} LIMIT 0")
            assert result_schema(cursor) == contract_schema(view), name
        cursor.execute(
            "select r.CUSTOMER_ID, r.EMAIL, e.EMAIL_SHA256, e.EMAIL_VALID from RETAIL.RAW.CUSTOMERS r "
            "join RETAIL.EXTRACT.CUSTOMERS e on e.CUSTOMER_ID = r.CUSTOMER_ID order by r.CUSTOMER_ID"
        )
        rows = cursor.fetchall()
    planted = {key: email for key, email, _, _ in rows if key >= FIRST_PLANTED}
    assert list(planted.values()) == TRICKY_EMAILS  # the addresses went in unchanged
    for _, raw, digest, _ in rows:
        expected = None if raw is None else hashlib.sha256(raw.strip(" ").lower().encode()).hexdigest()
        assert digest == expected, raw

    # the view's verdict is the raw contract's verdict on the same addresses
    emails = [raw for _, raw, _, _ in rows]
    batch = valid_batch(CUSTOMERS, len(emails), now=datetime(2030, 1, 1))
    batch = batch.set_column(1, "EMAIL", pa.array(emails, pa.string()))
    refused = check_batch(CUSTOMERS, batch, now=datetime(2030, 1, 1)).quarantined
    contract_says_bad = {
        email
        for email, reasons in zip(refused["EMAIL"].to_pylist(), refused["_reasons"].to_pylist(), strict=True)
        if any(r.startswith("malformed_email:") for r in reasons)
    }
    verdicts = {raw: valid for _, raw, _, valid in rows}
    assert {raw for raw, valid in verdicts.items() if valid is False} == contract_says_bad
    assert verdicts[None] is None and len(contract_says_bad) >= 10
    assert verdicts["o'brien@example.ie"] is True and verdicts["  Padded@Example.COM "] is False
