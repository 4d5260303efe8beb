"""The Great Expectations suite of each source object, derived from `ingestion/schema.py`.

A table has two contracts, one per object ingestion can read: the raw table (`RETAIL.RAW.<T>`,
`schema.TABLES`) and its extraction view (`RETAIL.EXTRACT.<T>`, `schema.VIEWS`, the default). Which one
applies is decided by the schema of the configured `object` (`ingestion.config.TableConfig.contract_table`).

`build_suite(table)` writes the contract as a GX 1.x ExpectationSuite document (plain dicts, so building it
needs no GX import); `python -m ingestion.contracts.generate` saves one JSON file per object under
`ingestion/contracts/suites/<raw|extract>/<table>.json`, where reviewers read it and GX tooling loads it.
The hot path evaluates the *committed* file (`load_suite`), so what was reviewed is what runs; a test fails
when the files are out of date with schema.py.

What the schema says and the expectation it becomes (nothing is written per table):

* every table: `expect_table_columns_to_match_set` (exact_match false: added columns are drift, reported by
  `schema_drift` and handled by the landing policy, not a reason to reject rows);
* every column: `expect_column_values_to_be_in_type_list` with its type family (see `types.py`);
* `nullable=False` -> `expect_column_values_to_not_be_null` (reason `null_primary_key` for the key,
  `null_required` otherwise);
* `enum` -> `expect_column_values_to_be_in_set` (`unknown_enum`);
* `minimum` -> `expect_column_values_to_be_between(min_value=…)` (`negative_amount` when the minimum is 0,
  else `below_minimum`);
* every timestamp column (the event time, UPDATED_AT, …) -> `expect_column_values_to_be_between(
  max_value={"$PARAMETER": "now"})` (`future_timestamp`); `now` is supplied per validation;
* a column named EMAIL -> `expect_column_values_to_match_regex` and `…_to_not_match_regex` (forbidden
  characters, e.g. a trailing newline Python's `$` lets through) (`malformed_email`);
* a view's e-mail verdict (EMAIL_VALID, computed in Snowflake with the same rule) ->
  `expect_column_values_to_be_in_set([True])` (`malformed_email`): the address stays in Snowflake, the row
  is still quarantined with the reason;
* a view's e-mail digest (EMAIL_SHA256) -> `…_to_match_regex("^[0-9a-f]{64}$")` and
  `…_to_not_match_regex("[^0-9a-f]")` (`malformed_email_sha256`).

Each expectation's `meta.reason` is the short code a failing row's quarantine reason starts with.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingestion.contracts.types import arrow_type, family, type_list
from ingestion.schema import OBJECTS, RAW_SCHEMA, Table
from lakeml.core.errors import ConfigError

SUITES_DIR = Path(__file__).resolve().parent / "suites"
NOW_PARAMETER = "now"
# ASCII-only classes so Python's `re` (GX on pandas) and RE2 (pyarrow) agree on every string.
EMAIL_REGEX = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
# Python's `$` also matches before a final newline (so GX would pass "a@b.co\n"); RE2 has no `\Z` and
# Python no `\z`, so a second, unanchored check refuses any character an address cannot hold.
EMAIL_FORBIDDEN_REGEX = r"[^A-Za-z0-9._%+'@-]"
EMAIL_COLUMNS = frozenset({"EMAIL"})
# A hex SHA-256 digest as Snowflake's SHA2(…, 256) writes it; the second check closes `$`'s newline gap.
SHA256_REGEX = r"^[0-9a-f]{64}$"
SHA256_FORBIDDEN_REGEX = r"[^0-9a-f]"


def suite_name(table: Table) -> str:
    prefix = "" if table.schema == RAW_SCHEMA else f"{table.schema.lower()}_"
    return f"{prefix}{table.name.lower()}_contract"


def suite_path(table_name: str, schema: str = RAW_SCHEMA) -> Path:
    """`suites/raw/<table>.json` (the raw table's contract) or `suites/extract/<table>.json` (the view's)."""
    return SUITES_DIR / schema.lower() / f"{table_name.lower()}.json"


def build_suite(table: Table) -> dict[str, Any]:
    """The contract of `table` as a GX ExpectationSuite document (see the module docstring)."""
    expectations: list[dict[str, Any]] = [
        _expectation(
            "expect_table_columns_to_match_set",
            {"column_set": list(table.column_names), "exact_match": False},
            "missing_column",
        )
    ]
    for column in table.columns:
        contract_type = arrow_type(column.sf_type)
        name = column.name
        expectations.append(
            _expectation(
                "expect_column_values_to_be_in_type_list",
                {"column": name, "type_list": type_list(contract_type)},
                "type_mismatch",
                contract_type=str(contract_type),
            )
        )
        if not column.nullable:
            reason = "null_primary_key" if name == table.primary_key else "null_required"
            expectations.append(_expectation("expect_column_values_to_not_be_null", {"column": name}, reason))
        if column.enum is not None:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_in_set",
                    {"column": name, "value_set": list(column.enum)},
                    "unknown_enum",
                )
            )
        if column.minimum is not None:
            minimum: int | float = (
                int(column.minimum) if float(column.minimum).is_integer() else column.minimum
            )
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    {"column": name, "min_value": minimum},
                    "negative_amount" if minimum == 0 else "below_minimum",
                )
            )
        if family(contract_type) in ("timestamp", "timestamp_tz"):
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    {"column": name, "max_value": {"$PARAMETER": NOW_PARAMETER}},
                    "future_timestamp",
                )
            )
        if name in EMAIL_COLUMNS:
            expectations += _pattern(name, EMAIL_REGEX, EMAIL_FORBIDDEN_REGEX, "malformed_email")
        if column.email_derived == "sha256":
            expectations += _pattern(name, SHA256_REGEX, SHA256_FORBIDDEN_REGEX, "malformed_email_sha256")
        if column.email_derived == "valid":
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_in_set",
                    {"column": name, "value_set": [True]},
                    "malformed_email",
                    explain="the address fails the e-mail rule; judged in Snowflake, not extracted",
                )
            )
    obj = f"RETAIL.{table.schema}.{table.name}"
    source = "ingestion/schema.py" + (
        ""
        if table.schema == RAW_SCHEMA
        else f" (extraction_view; the view is dbt_project/models/snowflake/extract_{table.name.lower()}.sql)"
    )
    return {
        "name": suite_name(table),
        "expectations": expectations,
        "meta": {
            "lakeml": {
                "table": table.name,
                "object": obj,
                "primary_key": table.primary_key,
                "generated_by": "python -m ingestion.contracts.generate",
                "source": source,
                "parameters": {NOW_PARAMETER: "validation time; timestamps after it are in the future"},
            }
        },
        "notes": (
            f"Data contract of {obj}, generated from {source}. "
            "Do not edit by hand: change the schema and run `python -m ingestion.contracts.generate`."
        ),
    }


def _expectation(type_: str, kwargs: dict[str, Any], reason: str, **meta: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": {"reason": reason, **meta}}


def _pattern(column: str, regex: str, forbidden: str, reason: str) -> list[dict[str, Any]]:
    """A value must match `regex` and contain nothing `forbidden` matches (Python's `$` lets a trailing
    newline through a full match; the second expectation catches it)."""
    return [
        _expectation("expect_column_values_to_match_regex", {"column": column, "regex": regex}, reason),
        _expectation(
            "expect_column_values_to_not_match_regex", {"column": column, "regex": forbidden}, reason
        ),
    ]


def render(suite: dict[str, Any]) -> str:
    """The committed file's exact text (stable key order, so regenerating is a no-op)."""
    return json.dumps(suite, indent=2, sort_keys=True) + "\n"


def expected_files() -> dict[Path, str]:
    """Every suite file `generate` writes, with its text, from the current schema.py: raw tables and views."""
    return {
        suite_path(name, schema): render(build_suite(table))
        for schema, tables in OBJECTS.items()
        for name, table in tables.items()
    }


@lru_cache(maxsize=64)
def load_suite(table_name: str, schema: str = RAW_SCHEMA) -> dict[str, Any]:
    """The committed suite of `table_name` as read from `schema` (RAW table by default, EXTRACT view);
    cached: the file is read once per process."""
    path = suite_path(table_name, schema)
    if not path.exists():
        raise ConfigError(
            f"no contract suite for {schema.upper()}.{table_name} ({path} is missing); "
            "run `python -m ingestion.contracts.generate` after adding the table to ingestion/schema.py"
        )
    suite: dict[str, Any] = json.loads(path.read_text())
    return suite
