"""The Arrow evaluators fail exactly the rows Great Expectations itself fails, expectation by expectation.

GX runs the committed suites (ephemeral context, pandas datasource, result_format COMPLETE) on the same
batches `check_batch` sees — valid rows with nulls where allowed, a planted bad row for every expectation,
a row breaking several at once, and edge values (the bound itself, tricky emails). GX's import (~6 s) is
paid once, on one worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from ingestion.contracts.evaluate import SCHEMA_EVALUATORS, compiled_suite
from ingestion.contracts.samples import plant_bad_rows, valid_batch
from ingestion.contracts.suites import load_suite
from ingestion.schema import CUSTOMERS, OBJECTS, ORDERS, Table

pytestmark = pytest.mark.xdist_group("great_expectations")

NOW = datetime(2026, 11, 27, 6, 0, 0)
TRICKY_EMAILS = [
    "ann@example.com\n",  # Python's `$` matches before a final newline; GX says valid, so must we
    "ann@example.com\n\n",
    "\nann@example.com",
    "ünal@example.com",
    "ann@exämple.com",
    " ann@example.com",
    "ann@example.c",
    "ann@@example.com",
    "ann@example..com",
    "o'brien@example.ie",
    "",
]
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
TRICKY_DIGESTS = [DIGEST + "\n", DIGEST.upper(), DIGEST[:-1], DIGEST + "0", " " + DIGEST, "", DIGEST]
# every contract: the raw tables and the extraction views
CONTRACTS = {f"{t.schema}.{name}": t for tables in OBJECTS.values() for name, t in tables.items()}


@pytest.fixture(scope="module")
def gx() -> Any:
    from ingestion.contracts import gx

    return gx


def batch_with_every_bad_class(table: Table) -> pa.Table:
    batch, _ = plant_bad_rows(table, valid_batch(table, 400, now=NOW, seed=11), now=NOW)
    edges: dict[str, pa.Array] = {}
    for exp, _ in compiled_suite(table.name, table.schema).row_checks:
        if exp.type == "expect_column_values_to_be_between" and exp.kwargs.get("max_value") is not None:
            edges[exp.column] = pa.array(
                [NOW, NOW + timedelta(microseconds=1)], batch.schema.field(exp.column).type
            )
        elif exp.type == "expect_column_values_to_be_between":
            t = batch.schema.field(exp.column).type
            low = Decimal(str(exp.kwargs["min_value"]))
            edges[exp.column] = pa.array(
                [low, low - 1] if not pa.types.is_decimal(t) else [low, low - Decimal("0.01")]
            ).cast(t)
    tail = valid_batch(table, 2 + max(len(TRICKY_EMAILS), len(TRICKY_DIGESTS)), now=NOW, seed=12)
    for name, values in edges.items():
        i = tail.column_names.index(name)
        column = tail.column(i).to_pylist()
        column[: len(values)] = values.to_pylist()
        tail = tail.set_column(i, tail.schema.field(i), pa.array(column, tail.schema.field(i).type))
    for name, values in (("EMAIL", TRICKY_EMAILS), ("EMAIL_SHA256", TRICKY_DIGESTS)):
        if name in tail.column_names:
            i = tail.column_names.index(name)
            column = tail.column(i).to_pylist()
            column[: len(values) + 1] = [*values, None]
            tail = tail.set_column(i, tail.schema.field(i), pa.array(column, pa.string()))
    return pa.concat_tables([batch, tail])


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_same_rows_fail_each_expectation_as_in_great_expectations(gx: Any, name: str) -> None:
    table = CONTRACTS[name]
    batch = batch_with_every_bad_class(table)
    suite = compiled_suite(table.name, table.schema)
    ours = {
        (exp.type, exp.column): np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()
        for exp, _, mask in suite.masks(batch, {"now": NOW})
    }
    outcomes = gx.gx_validate(load_suite(table.name, table.schema), gx.gx_frame(batch), {"now": NOW})
    assert [o.exception for o in outcomes if o.exception] == []

    theirs = {
        (o.type, o.column): sorted(o.unexpected_index_list or [])
        for o in outcomes
        if (o.type, o.column) in ours
    }
    assert theirs == ours
    assert all(rows for rows in ours.values()), "every row expectation must be exercised by a failing row"
    schema_checks = [o for o in outcomes if (o.type, o.column) not in ours]
    assert len(schema_checks) == len(suite.schema_checks)
    assert all(o.success for o in schema_checks), [o for o in schema_checks if not o.success]
    assert suite.schema_problems(batch.schema) == []


def test_drift_fails_the_same_schema_expectations_in_great_expectations(gx: Any) -> None:
    batch = valid_batch(ORDERS, 20, now=NOW)
    batch = batch.set_column(8, "NET_AMOUNT", batch.column("NET_AMOUNT").cast(pa.string()))
    batch = batch.drop_columns(["CHANNEL"]).append_column("PREFERRED_LANGUAGE", pa.array(["en"] * 20))
    suite = compiled_suite("ORDERS")
    doc = load_suite("ORDERS")
    doc = {**doc, "expectations": [e for e in doc["expectations"] if e["kwargs"].get("column") != "CHANNEL"]}
    outcomes = gx.gx_validate(doc, gx.gx_frame(batch), {"now": NOW})
    # (GX also fails the range check of the now-string NET_AMOUNT; check_batch never gets that far)
    failed = sorted((o.type, o.column) for o in outcomes if not o.success and o.type in SCHEMA_EVALUATORS)
    assert failed == [
        ("expect_column_values_to_be_in_type_list", "NET_AMOUNT"),
        ("expect_table_columns_to_match_set", None),
    ]
    problems = sorted((p.kind, p.column) for p in suite.schema_problems(batch.schema))
    assert problems == [("missing", "CHANNEL"), ("retyped", "NET_AMOUNT")]


def test_committed_suites_load_in_great_expectations(gx: Any) -> None:
    import great_expectations as great_expectations

    for table in CONTRACTS.values():
        doc = load_suite(table.name, table.schema)
        suite = great_expectations.ExpectationSuite(**doc)
        assert len(suite.expectations) == len(doc["expectations"])
        assert {e.expectation_type for e in suite.expectations} == {e["type"] for e in doc["expectations"]}


def test_customers_email_edges_are_judged_like_python_re(gx: Any) -> None:
    batch = batch_with_every_bad_class(CUSTOMERS)
    masks = {
        exp.type: set(np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist())
        for exp, _, mask in compiled_suite("CUSTOMERS").masks(batch, {"now": NOW})
        if exp.column == "EMAIL"
    }
    emails = batch.column("EMAIL").to_pylist()
    pattern = {emails[i] for i in masks["expect_column_values_to_match_regex"]}
    forbidden = {emails[i] for i in masks["expect_column_values_to_not_match_regex"]}
    assert "ann@example.com\n" not in pattern  # Python's `$` (GX) lets a final newline through ...
    assert "ann@example.com\n" in forbidden  # ... so the forbidden-character check catches it
    assert {"ann@example.com\n\n", "\nann@example.com", "", "ann@@example.com", "ann@example.c"} <= pattern
    assert {"ünal@example.com", "ann@exämple.com", " ann@example.com"} <= pattern & forbidden
    assert "o'brien@example.ie" not in pattern | forbidden
