"""The dbt project parses for every target offline, and its bronze sources mirror the source schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ingestion.contracts.suites import EMAIL_REGEX
from ingestion.schema import TABLES, VIEWS
from lakeml.transform.project import PROFILES_DIR, PROJECT_DIR

TARGETS = ("local", "glue", "snowflake", "snowflake_local")


def _parse(target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    from dbt.cli.main import dbtRunner

    monkeypatch.setenv("LAKEML_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = ["parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR)]
    result = dbtRunner().invoke([*args, "--target", target, "--log-level", "none"])
    assert result.success, f"dbt parse --target {target} failed: {result.exception}"
    return json.loads((tmp_path / "target" / "manifest.json").read_text())


@pytest.mark.parametrize("target", TARGETS)
def test_dbt_parse_succeeds_offline_for_every_target(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _parse(target, tmp_path, monkeypatch)
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    if target.startswith("snowflake"):
        # only the extraction views: the Spark models do not exist in Snowflake and vice versa
        assert set(models) == {f"extract_{t.lower()}" for t in TABLES}
        assert all("snowflake" in m["tags"] for m in models.values())
    else:
        assert {"orders", "customers", "customer_features", "churn_training_set", "daily_sales"} <= set(
            models
        )
        assert not any(name.startswith("extract_") for name in models)
        assert {m["schema"] for m in models.values()} == {"silver", "gold"}


def _spark_type(sf_type: str) -> str:
    number = re.fullmatch(r"NUMBER\((\d+),(\d+)\)", sf_type)
    if number:
        return "bigint" if number.group(2) == "0" else f"decimal({number.group(1)},{number.group(2)})"
    return {"VARCHAR": "string", "TIMESTAMP_NTZ": "timestamp", "BOOLEAN": "boolean"}[sf_type]


def test_bronze_sources_mirror_the_extraction_views() -> None:
    """dbt declares bronze's columns (used when a table has no parts yet); they must follow what ingestion
    reads, the extraction views of schema.py."""
    document = yaml.safe_load((PROJECT_DIR / "models" / "bronze" / "_bronze.yml").read_text())
    (bronze,) = [s for s in document["sources"] if s["name"] == "bronze"]
    declared = {t["name"]: {c["name"]: c["data_type"] for c in t["columns"]} for t in bronze["tables"]}
    assert set(declared) == {t.lower() for t in VIEWS}
    for table in VIEWS.values():
        expected = {c.name: _spark_type(c.sf_type) for c in table.columns}
        expected.update(ingest_date="string", run_id="string", _committed_at="timestamp")
        assert declared[table.name.lower()] == expected, table.name


def test_extraction_views_select_the_columns_of_schema_py_with_the_email_hashed_and_judged() -> None:
    for table in VIEWS.values():
        sql = (PROJECT_DIR / "models" / "snowflake" / f"extract_{table.name.lower()}.sql").read_text()
        aliases = re.findall(r"AS (\w+)", sql)
        assert aliases == list(table.column_names), table.name
        for column in table.columns:
            if column.email_derived is None:
                assert f"{column.name}::{column.sf_type} AS {column.name}" in sql, column.name
    customers = (PROJECT_DIR / "models" / "snowflake" / "extract_customers.sql").read_text()
    assert "SHA2(LOWER(TRIM(EMAIL)), 256)::VARCHAR AS EMAIL_SHA256" in customers
    # the ingestion contract's e-mail rule, as a Snowflake string literal (REGEXP_LIKE matches whole values)
    rule = EMAIL_REGEX.removeprefix("^").removesuffix("$").replace("\\", "\\\\").replace("'", "''")
    assert f"REGEXP_LIKE(EMAIL, '{rule}')::BOOLEAN AS EMAIL_VALID" in customers
    assert "FIRST_NAME" not in customers.split("select", 1)[1] and "LAST_NAME" not in customers
