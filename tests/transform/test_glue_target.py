"""The project built on both targets from the same bronze, compared model by model (issue 14).

Local side: plain dbt from the repo root, as the README says (`dbt build --project-dir dbt_project
--profiles-dir profiles`, then `dbt docs generate`), with no JAVA_HOME or SPARK_CONF_DIR: Java is found
the way plain dbt finds it after `make setup`. Glue side: `lakeml transform --target glue`, dbt-glue
against the local Glue twin it starts. Every model's row count, schema and content checksum are equal.
One build per target for the module (each ≈ a minute of CPU), in the dbt_build group."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from tests.conftest import REPO
from tests.transform.bronze import ChurnHistory, write_run
from tests.transform.conftest import Home, Result, make_home

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_glue"), pytest.mark.timeout(1800)]

HISTORY = ChurnHistory(start=pd.Timestamp("2025-01-01").date(), days=200, customers=24, seed=7)
CUT = HISTORY.end - timedelta(days=1)
BUCKET = "lakeml-lake"


def write_bronze(lake: Path) -> None:
    """Committed initial runs, a committed run of edits and an uncommitted run (as test_build's)."""
    day = CUT.date()
    for table in HISTORY.tables:
        write_run(lake, table, "initial", day, HISTORY.before(table, CUT))
    customer = dict(
        HISTORY.tables["CUSTOMERS"][1], LOYALTY_TIER="platinum", UPDATED_AT=CUT - timedelta(days=10)
    )
    write_run(lake, "CUSTOMERS", "edits", day, [customer])
    order = dict(HISTORY.tables["ORDERS"][4], STATUS="returned", UPDATED_AT=CUT - timedelta(days=5))
    write_run(lake, "ORDERS", "edits", day, [order])
    write_run(lake, "ORDERS", "in-flight", day, [dict(order, ORDER_ID=990_001)], commit=False)


def plain_dbt(home: Home, *args: str) -> Result:
    """`dbt <args> --project-dir dbt_project --profiles-dir profiles` from the repo root, in a clean
    environment: no LAKEML_*/DBT_* but the home, no JAVA_HOME, no SPARK_CONF_DIR. dbt's target/ and logs
    go to the home (documented dbt variables) so the shared checkout is not written."""
    drop = ("LAKEML_", "DBT_", "JAVA_HOME", "SPARK_CONF_DIR", "SPARK_HOME", "PYSPARK_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        LAKEML_HOME=str(home.path),
        DBT_TARGET_PATH=str(home.path / "dbt" / "target"),
        DBT_LOG_PATH=str(home.path / "dbt" / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt), *args, "--project-dir", "dbt_project", "--profiles-dir", "profiles"]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=1500)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def glue_catalog(home: Home) -> dict[str, str]:
    """Where the twin's catalog puts each layer database (asked over the Glue API, as dbt-glue would)."""
    import boto3

    state = json.loads((home.path / "run" / "glue.json").read_text())
    glue = boto3.client(
        "glue",
        endpoint_url=f"http://{state['host']}:{state['port']}",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    return {d["Name"]: d.get("LocationUri", "").rstrip("/") for d in glue.get_databases()["DatabaseList"]}


def stop_glue_twin(home: Home) -> None:
    from lakeml.core import environ
    from lakeml.core.settings import load_settings
    from lakeml.twins.glue import lifecycle

    with environ.scoped({"LAKEML_HOME": str(home.path), "LAKEML_CONFIG": str(home.config)}):
        lifecycle.stop(load_settings())


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    local = make_home(tmp_path_factory.mktemp("plain-dbt"))
    glue = make_home(tmp_path_factory.mktemp("glue-twin"))
    write_bronze(local.lake)
    shutil.copytree(local.lake / "bronze", glue.lake / "bronze")  # byte for byte the same bronze
    built = plain_dbt(local, "build")
    docs = plain_dbt(local, "docs", "generate")
    try:
        transformed = glue.lakeml("--json", "transform", "--target", "glue")
        catalog = glue_catalog(glue) if transformed.code == 0 else {}
    finally:
        stop_glue_twin(glue)
    return {
        "local": local,
        "glue": glue,
        "built": built,
        "docs": docs,
        "transformed": transformed,
        "catalog": catalog,
    }


def models(home: Home) -> dict[str, dict[str, Any]]:
    manifest = json.loads((home.path / "dbt" / "target" / "manifest.json").read_text())
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def canonical(table: pa.Table) -> pd.DataFrame:
    """A table's rows in a fixed order and form: columns by name, partition columns as strings, floats
    rounded to 9 places (the same SQL summing doubles in another order may differ in the last bit)."""
    frame = table.to_pandas()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
        elif pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column].round(9)
    frame = frame[sorted(frame.columns)]
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def checksum(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def test_plain_dbt_builds_and_documents_the_project_from_the_repo_root(both: dict[str, Any]) -> None:
    built, docs = both["built"], both["docs"]
    assert built.code == 0, built
    assert "Completed successfully" in built.stdout, built
    assert docs.code == 0, docs
    target = both["local"].path / "dbt" / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    assert {uid for uid in catalog["nodes"] if uid.startswith("model.")} == {
        f"model.lakeml.{name}"
        for name in models(both["local"])
        if models(both["local"])[name]["config"]["enabled"]
    }
    assert (target / "index.html").is_file()
    for name in ("metastore_db", "spark-warehouse", "derby.log", ".lakeml/spark", ".lakeml/dbt"):
        assert not (REPO / name).exists(), f"plain dbt wrote {name} into the repo"
    assert not (REPO / "dbt_project" / "target").exists() and not (REPO / "dbt_project" / "logs").exists()


def test_lakeml_transform_target_glue_builds_every_model_and_test_on_the_twin(both: dict[str, Any]) -> None:
    result = both["transformed"]
    assert result.code == 0, result
    doc = result.json
    assert doc["target"] == "glue" and doc["failed"] == [] and doc["skipped"] == [], doc
    assert doc["models"] == 10 and doc["passed"] == doc["tests"] >= 40
    lake = both["glue"].lake
    # the layer databases sit where the local target puts them: quarantine is <lake>/quarantine/dbt on both
    assert {k: both["catalog"][k] for k in ("silver", "gold", "quarantine")} == {
        "silver": f"s3://{BUCKET}/silver",
        "gold": f"s3://{BUCKET}/gold",
        "quarantine": f"s3://{BUCKET}/quarantine/dbt",
    }
    assert (lake / "silver" / "orders").is_dir() and (lake / "gold" / "customer_features").is_dir()


def test_both_targets_build_the_same_tables_from_the_same_bronze(both: dict[str, Any]) -> None:
    assert both["built"].code == 0 and both["transformed"].code == 0
    local, glue = both["local"], both["glue"]
    nodes = models(local)
    tables = sorted(
        f"{n['schema']}/{n['alias']}"
        for n in nodes.values()
        if n["config"]["enabled"] and n["config"]["materialized"] != "view"
    )
    assert len(tables) == 9  # and gold.churn_scores, a view over the (empty) batch scores on both
    compared = {}
    for name in tables:
        mine, theirs = local.table(name), glue.table(name)
        assert mine.num_rows > 0, name
        left, right = canonical(mine), canonical(theirs)
        assert list(left.columns) == list(right.columns), name
        assert (len(left), checksum(left)) == (len(right), checksum(right)), name
        compared[name] = len(left)
    assert compared["silver/orders"] == len(HISTORY.before("ORDERS", CUT))


# --- cheap: no Spark ------------------------------------------------------------------------------------


def test_locally_the_glue_target_points_dbt_glue_at_this_homes_twin(tmp_path: Path) -> None:
    """LAKEML_ENV=local with --target glue: the wiring hands the glue target this home's twin; dbt-glue's
    three boto3 services go to it, dbt speaks s3://<lake bucket>, tables are written to the local lake."""
    from dataclasses import dataclass

    from lakeml.core import environ
    from lakeml.core.settings import load_settings
    from lakeml.transform.targets.glue import GlueTarget
    from lakeml.wiring import adapters

    (tmp_path / "lakeml.toml").write_text("[transform]\ntarget = 'glue'\n")
    with environ.scoped(
        {"LAKEML_HOME": str(tmp_path / "home"), "LAKEML_CONFIG": str(tmp_path / "lakeml.toml")}
    ):
        ports = adapters(load_settings())
    target = ports.transform_target
    assert isinstance(target, GlueTarget) and target.twin is not None

    @dataclass
    class Twin:
        host: str = "127.0.0.1"
        port: int = 4567

    profile = GlueTarget(target.settings, target.lake, target.views, twin=Twin).profile()
    env = profile.environment
    assert profile.target == "glue" and profile.project_vars == {"lake_root": f"s3://{BUCKET}"}
    for service in ("GLUE", "STS", "LAKEFORMATION"):
        assert env[f"AWS_ENDPOINT_URL_{service}"] == "http://127.0.0.1:4567"
    assert env["LAKEML_AWS__LAKE_BUCKET"] == BUCKET and env["AWS_DEFAULT_REGION"] == env["LAKEML_AWS__REGION"]
    assert target.lake_uri == (tmp_path / "home" / "lake").as_uri()  # where the twin's Spark writes
    assert target.quarantine_uri == target.lake.uri_of("quarantine", "dbt")


def test_plain_dbt_finds_java_17_through_sparks_conf_dir(tmp_path: Path) -> None:
    """After `make setup`, pyspark's default conf dir is profiles/spark, whose spark-env.sh (sourced by
    Spark's launcher before the JVM starts) sets JAVA_HOME as lakeml would — also over a JAVA_HOME that
    names no Java."""
    import pyspark

    from lakeml.transform.java import java_major

    conf = Path(pyspark.__file__).parent / "conf"
    assert conf.resolve() == (REPO / "profiles" / "spark").resolve(), (
        "run `make setup` (it links pyspark's conf)"
    )
    launcher = (Path(pyspark.__file__).parent / "bin" / "load-spark-env.sh").read_text()
    assert "spark-env.sh" in launcher  # what Spark's launcher sources from its conf dir
    for java_home in (None, str(tmp_path)):  # unset, and pointing at a folder without Java
        env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_CONF_DIR")}
        if java_home:
            env["JAVA_HOME"] = java_home
        found = subprocess.run(
            ["bash", "-c", f'. "{conf}/spark-env.sh"; printf %s "$JAVA_HOME"'],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            check=True,
        ).stdout
        assert found and (java_major(Path(found) / "bin" / "java") or 0) >= 17, (java_home, found)
