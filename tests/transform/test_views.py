"""The extraction views are rebuilt only when their definitions, the source schema or the views in the
source changed: `lakeml transform --snowflake` (the call the `views` stage of `lakeml run` makes) against
the local twin, built for real by dbt-snowflake."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("extraction_views")]


def build(lakeml: Any, *args: str) -> dict[str, Any]:
    """`lakeml transform --snowflake` in this process (so a test can point it at another dbt project)."""
    result = lakeml("--json", "transform", "--snowflake", *args, subprocess=False)
    assert result.code == 0, result
    return dict(result.json)


@pytest.fixture
def built(lakeml: Any) -> dict[str, Any]:
    """A seeded twin whose views were built once."""
    seeded = lakeml("--json", "source", "seed", "--customers", "20", "--days", "5")
    assert seeded.code == 0, seeded
    first = build(lakeml)
    assert (first["views"], first["reason"], first["models"]) == ("rebuilt", "no earlier build recorded", 5)
    return first


def test_a_second_build_leaves_the_views_alone_until_forced(lakeml: Any, built: dict[str, Any]) -> None:
    again = build(lakeml)
    assert (again["views"], again["models"], again["tests"]) == ("unchanged", 0, 0)
    assert (
        again["view_names"]
        == built["view_names"]
        == [
            "CUSTOMERS",
            "ORDERS",
            "ORDER_ITEMS",
            "PRODUCTS",
            "SUPPORT_TICKETS",
        ]
    )
    forced = build(lakeml, "--full-refresh")
    assert (forced["views"], forced["reason"], forced["models"]) == ("rebuilt", "rebuild forced", 5)


def test_a_source_schema_change_rebuilds_the_views(lakeml: Any, built: dict[str, Any]) -> None:
    drifted = lakeml("--json", "source", "drift")  # adds CUSTOMERS.PREFERRED_LANGUAGE, retypes a column
    assert drifted.code == 0, drifted
    after = build(lakeml)
    assert (after["views"], after["reason"], after["models"]) == ("rebuilt", "source schema changed", 5)
    assert build(lakeml)["views"] == "unchanged"


def test_a_changed_view_definition_rebuilds_the_views(
    lakeml: Any, built: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakeml.transform import project, runner

    copy = tmp_path / "dbt_project"
    shutil.copytree(
        project.PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    model = copy / "models" / "snowflake" / "extract_products.sql"
    model.write_text(model.read_text() + "where 1 = 1\n")
    monkeypatch.setattr(project, "PROJECT_DIR", copy)
    monkeypatch.setattr(runner, "PROJECT_DIR", copy)

    after = build(lakeml)
    assert (after["views"], after["reason"], after["models"]) == ("rebuilt", "view definitions changed", 5)
    assert build(lakeml)["views"] == "unchanged"


def test_a_view_dropped_in_the_source_is_built_again(lakeml: Any, built: dict[str, Any]) -> None:
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.connection import connect

    with connect(load_settings()) as conn, conn.cursor() as cursor:
        cursor.execute("DROP VIEW RETAIL.EXTRACT.ORDERS")
    after = build(lakeml)
    assert after["views"] == "rebuilt"
    assert after["reason"] == "views in the source differ from the last build"
    assert "ORDERS" in after["view_names"]
