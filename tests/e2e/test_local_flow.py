"""The newcomer's path, end to end through the real CLI: run → approve → score → serve → curl.

One shared LAKEML_HOME for the module (the stages build on each other); a smaller source than the default
and a smaller tuning budget keep it within a few minutes. Training again without new data (the champion
gate's FailStep, nothing registered) is covered through the CLI by
tests/ml_pipelines/test_definition_runs_locally.py, on lakeml's own definition.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, stop_local_servers
from tests.ml_pipelines.serving.conftest import Client, free_port

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow, pytest.mark.timeout(1800)]
PARAMS = ["--param", "MaxTuningJobs=3", "--param", "MaxParallelTuningJobs=1"]


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e") / "home"
    config = home.parent / "lakeml.toml"
    config.write_text("# e2e: defaults only\n")
    env = {**os.environ, "LAKEML_HOME": str(home), "LAKEML_CONFIG": str(config), "COLUMNS": "200"}
    env.pop("LAKEML_ENV", None)

    def lakeml(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lakeml.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env=env,
        )

    seeded = lakeml("--json", "source", "seed", "--customers", "2000")
    assert seeded.returncode == 0, seeded.stderr
    yield lakeml, home, env
    stop_local_servers(home)


def _json(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def first_run(flow):
    lakeml, _, _ = flow
    proc = lakeml("--json", "run", *PARAMS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _json(proc)


def test_run_goes_through_every_stage_and_registers_a_pending_version(first_run):
    stages = first_run["stages"]
    assert list(stages) == ["source", "views", "ingest", "transform", "quality", "train", "score"]
    assert stages["quality"]["passed"] is True
    assert stages["score"]["skipped"] is True  # no Approved version yet: a warning, not a failure
    assert sum(r["landed"] for r in stages["ingest"]["runs"]) > 0
    assert stages["transform"]["failed"] == []
    train = stages["train"]
    assert train["status"] == "Succeeded", train.get("failure_reason")
    assert train["registered"]["status"] == "PendingManualApproval"
    assert train["auc"] >= 0.80  # issue 5: a model on generated data (default seed) reaches test AUC >= 0.80


def test_silver_keeps_the_email_digest_made_in_snowflake_and_no_raw_address(flow, first_run):
    """source -> extraction view -> ingest -> bronze -> silver: the e-mail is hashed once, in Snowflake,
    as sha256(lower(trim(address))), and no raw address or name reaches the lake."""
    import hashlib

    import pandas as pd
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from lakeml.core.settings import Settings
    from lakeml.twins.snowflake.connection import connect

    _, home, env = flow
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEML_CONFIG", env["LAKEML_CONFIG"])
        settings = Settings(home=home)
    with connect(settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT CUSTOMER_ID, EMAIL, UPDATED_AT FROM RETAIL.RAW.CUSTOMERS WHERE EMAIL IS NOT NULL"
        )
        raw = {key: (email, updated_at) for key, email, updated_at in cursor.fetchall()}
    for part in [
        *home.glob("lake/bronze/customers/**/*.parquet"),
        *home.glob("lake/quarantine/customers/**/*.parquet"),
    ]:
        assert not {"EMAIL", "FIRST_NAME", "LAST_NAME"} & set(pq.read_schema(part).names), part
    silver = ds.dataset(str(home / "lake" / "silver" / "customers"), format="parquet").to_table()
    assert not {"email", "first_name", "last_name"} & {c.lower() for c in silver.column_names}
    same_version = [
        (row["email_sha256"], raw[row["customer_id"]][0])
        for row in silver.select(["customer_id", "email_sha256", "updated_at"]).to_pylist()
        if row["customer_id"] in raw and pd.Timestamp(raw[row["customer_id"]][1]) == _utc(row["updated_at"])
    ]
    assert len(same_version) > 1000
    for digest, address in same_version:
        assert digest == hashlib.sha256(address.strip(" ").lower().encode()).hexdigest(), address


def _utc(value) -> object:
    """A timestamp as naive UTC, however Spark's Parquet hands it back (INT96 naive, or zoned)."""
    import pandas as pd

    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


@pytest.fixture(scope="module")
def approved(flow, first_run):
    lakeml, _, _ = flow
    version = str(first_run["stages"]["train"]["registered"]["version"])
    proc = lakeml(
        "--json", "models", "approve", version, "--by", "e2e@example.com", "--reason", "first model"
    )
    assert proc.returncode == 0, proc.stderr
    return version, _json(proc)


def test_approving_deploys_the_version_to_the_local_endpoint(approved):
    version, decision = approved
    assert decision["effects"]["deployed"]["version"] == f"lakeml-churn/{version}"


def test_lineage_of_the_approved_version_names_its_dbt_build_bronze_runs_and_endpoint(
    flow, first_run, approved
):
    """issue 12: the dbt invocation the run's transform published reaches feature ingestion and the
    version, and `lakeml lineage` follows it back to the bronze runs ingest landed and forward to the
    endpoint approval deployed."""
    lakeml, _, _ = flow
    version, _ = approved
    proc = lakeml("--json", "lineage", version)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lineage = _json(proc)
    assert lineage["gaps"] == []
    invocation = first_run["stages"]["transform"]["invocation_id"]
    assert invocation and lineage["dbt"]["invocation_id"] == invocation
    assert lineage["model"]["metadata"]["dbt_invocation_id"] == invocation
    assert lineage["features"]["lineage"]["dbt_invocation_id"] == invocation
    assert lineage["dbt"]["failed"] == 0 and lineage["dbt"]["command"] == "build"
    landed = {(r["table"], r["run_id"]) for r in first_run["stages"]["ingest"]["runs"] if r["landed"]}
    assert landed <= {(r["table"], r["run_id"]) for r in lineage["bronze_runs"]}
    assert {table.lower() for table, _ in landed} <= set(lineage["source_windows"])
    assert lineage["training"]["data_snapshot"] == lineage["model"]["metadata"]["data_snapshot"]
    assert lineage["training"]["splits"]["test"]["snapshot_to"]
    serving = {e["endpoint"]: e for e in lineage["endpoints"]}
    assert serving["lakeml-churn"]["this_version"] is True
    assert serving["lakeml-churn"]["config"].endswith(".json")  # the local endpoint's config file


@pytest.fixture(scope="module")
def scored(flow, approved):
    lakeml, _, _ = flow
    proc = lakeml("--json", "score")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _json(proc)


def test_batch_scoring_writes_a_score_per_customer(scored):
    assert scored["status"] == "Succeeded" and scored["rows"] > 1000


def test_serve_answers_the_readme_curl(flow, approved, scored):
    _, home, env = flow
    version, _ = approved
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lakeml.cli.main", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = Client(port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if client.request("GET", "/ping", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert list(json.loads(client.request("GET", "/ping")[2])["variants"].values()) == [
            f"lakeml-churn/{version}"
        ]
        # exactly the README's commands: one customer's features from the batch input, posted with curl
        readme = (
            "row=$(cat lake/ml/churn/executions/*/batch/features/features.csv | head -1 | cut -d, -f2-) && "
            f"curl -sf -H 'Content-Type: text/csv' -d \"$row\" http://127.0.0.1:{port}/invocations"
        )
        assert shutil.which("curl"), "curl is needed for the README's example"
        answer = subprocess.run(["bash", "-c", readme], cwd=home, capture_output=True, text=True, timeout=30)
        assert answer.returncode == 0, answer.stderr
        prediction = json.loads(answer.stdout)
        assert 0.0 <= prediction["predictions"][0] <= 1.0
        assert prediction["model_version"] == f"lakeml-churn/{version}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
