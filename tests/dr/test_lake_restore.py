"""A deleted bronze run comes back from the versioned lake bucket: `lakeml ingest restore`.

The disaster: a run's parts and manifest are deleted (`aws s3 rm --recursive` on the wrong prefix). In a
versioned bucket that leaves delete markers; `lakeml ingest verify` then reports the run's rows missing.
The restore copies the newest earlier version of each file back, checked against the manifest's hashes,
and republishes the visibility index, so verify is clean again and dbt sees the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.contract.aws_emulator import client
from tests.ingestion.aws_landing import AwsLanding
from tests.ingestion.conftest import at

pytestmark = pytest.mark.xdist_group("dr")


def ingest_two_runs(lakeml, source, landing: AwsLanding) -> list[str]:
    """Two committed runs of ORDERS (10 then 5 rows); returns their run ids."""
    runs = []
    for n, minutes in ((10, 60), (5, 120)):
        source.add_orders(n, at(minutes))
        result = lakeml("--json", "ingest", "--table", "ORDERS", env=landing.env)
        assert result.code == 0, result
        runs.append(result.json["runs"][0]["run_id"])
    return runs


def delete(landing: AwsLanding, keys: list[str]) -> None:
    s3 = client("s3", landing.endpoint)
    for key in keys:
        s3.delete_object(Bucket=landing.bucket, Key=key)  # a delete marker in a versioned bucket


def visible_runs(landing: AwsLanding) -> list[str]:
    body = client("s3", landing.endpoint).get_object(Bucket=landing.bucket, Key="bronze/_visible/orders.json")
    return [json.loads(line)["run_id"] for line in body["Body"].read().decode().splitlines()]


@pytest.mark.parametrize(
    ("which", "deleted"),
    [("first", "run-and-manifest"), ("first", "parts-only"), ("latest", "run-and-manifest")],
)
def test_a_deleted_bronze_run_is_restored_and_verify_is_clean_again(
    lakeml, source, landing: AwsLanding, which: str, deleted: str
) -> None:
    first, second = ingest_two_runs(lakeml, source, landing)
    target = first if which == "first" else second  # the latest: verify bounds by the watermark, too
    folder = [k for k in landing.keys("bronze/orders/") if f"run_id={target}/" in k]  # parts + dir marker
    parts = [k for k in folder if k.endswith(".parquet")]
    manifest = f"bronze/_manifests/orders/{target}.json"
    assert parts and manifest in landing.keys("bronze/_manifests/")
    delete(landing, folder + ([manifest] if deleted == "run-and-manifest" else []))

    broken = lakeml("--json", "ingest", "verify", "--table", "ORDERS", env=landing.env)
    assert broken.code == 1, broken
    if deleted == "parts-only":  # the manifest still commits the run: verify names the command
        assert f"lakeml ingest restore --table ORDERS --run {target}" in broken.json["error"]
    else:  # the run is not committed any more: its rows are missing below the watermark
        assert broken.json["ORDERS"]["missing"] == (10 if which == "first" else 5), broken

    planned = lakeml(
        "--json", "ingest", "restore", "--table", "ORDERS", "--run", target, "--dry-run", env=landing.env
    )
    assert planned.code == 0, planned
    [plan] = planned.json["runs"]
    expected = [*parts, manifest] if deleted == "run-and-manifest" else parts
    assert (plan["dry_run"], sorted(plan["restored"])) == (True, sorted(expected))
    assert not any(f"run_id={target}/" in k for k in landing.keys("bronze/orders/"))  # nothing changed

    restored = lakeml("--json", "ingest", "restore", "--table", "ORDERS", "--run", target, env=landing.env)
    assert restored.code == 0, restored
    [run] = restored.json["runs"]
    assert run["manifest"] == ("restored" if deleted == "run-and-manifest" else "present")
    assert sorted(run["restored"]) == sorted(expected)

    verify = lakeml("--json", "ingest", "verify", "--table", "ORDERS", env=landing.env)
    assert verify.code == 0, verify
    row = verify.json["ORDERS"]
    assert (row["missing"], row["duplicates"], row["bronze_rows"]) == (0, 0, 15)
    assert visible_runs(landing) == [first, second]

    again = lakeml("--json", "ingest", "restore", "--table", "ORDERS", "--run", target, env=landing.env)
    assert again.code == 0 and again.json["runs"][0]["restored"] == [], again  # nothing left to restore

    source.add_orders(3, at(180))  # ingestion carries on from the restored state
    assert lakeml("--json", "ingest", "--table", "ORDERS", env=landing.env).json["runs"][0]["landed"] == 3
    final = lakeml("--json", "ingest", "verify", "--table", "ORDERS", env=landing.env).json["ORDERS"]
    assert (final["missing"], final["duplicates"], final["bronze_rows"]) == (0, 0, 18)


def test_a_run_that_never_existed_exits_2_saying_how_to_list_the_committed_windows(
    lakeml, source, landing: AwsLanding
) -> None:
    ingest_two_runs(lakeml, source, landing)
    result = lakeml("--json", "ingest", "restore", "--table", "ORDERS", "--run", "nope", env=landing.env)
    assert result.code == 2, result
    assert "has no run 'nope', live or deleted" in result.json["error"]
    assert "lakeml ingest verify --table ORDERS" in result.json["error"]


def test_the_local_lake_keeps_no_versions_and_says_what_to_do_instead(lakeml, source, sources) -> None:
    source.add_orders(4, at(60))
    run = lakeml("--json", "ingest", "--table", "ORDERS").json["runs"][0]["run_id"]
    from lakeml.core.settings import load_settings

    (load_settings().lake_dir / f"bronze/_manifests/orders/{run}.json").unlink()
    result = lakeml("--json", "ingest", "restore", "--table", "ORDERS", "--run", run)
    assert result.code == 2, result
    assert "keeps no earlier versions" in result.json["error"] and "--full-refresh" in result.json["error"]


def test_a_run_ingestion_uncommitted_after_losing_a_race_is_refused_and_skipped_in_a_whole_table_restore(
    lakeml, source, landing: AwsLanding, tmp_path: Path
) -> None:
    """Two runs from one watermark: the winner commits, the loser's manifest is deleted by ingestion (a
    delete marker in the bucket). Restoring the loser would double the rows both windows share: asked for
    by id it is refused; when the whole table is deleted and restored, it is skipped and named."""
    source.add_orders(10, at(60))
    first = lakeml("--json", "ingest", "--table", "ORDERS", env=landing.env)
    assert first.code == 0, first
    source.add_orders(5, at(120))
    flag = tmp_path / "release"
    slow = subprocess.Popen(
        [sys.executable, "-m", "lakeml.cli.main", "--json", "ingest", "--table", "ORDERS"],
        cwd=REPO,
        env={**os.environ, **landing.env, "LAKEML_INGEST__FAULT_AT": f"before_manifest:wait={flag}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not [k for k in landing.keys("bronze/orders/") if "T100000" in k and k.endswith(".parquet")]:
            assert time.monotonic() < deadline, "the slow run never reached its parts"
            assert slow.poll() is None, slow.communicate()
            time.sleep(0.1)
        source.add_orders(3, at(150))
        winner = lakeml("--json", "ingest", "--table", "ORDERS", env=landing.env)
        assert winner.code == 0, winner
    finally:
        flag.touch()
        out, err = slow.communicate(timeout=120)
    assert slow.returncode == 1 and "another ingestion run advanced the watermark first" in err, (out, err)
    loser = json.loads(out)["runs"][0]["run_id"]

    refused = lakeml("--json", "ingest", "restore", "--table", "ORDERS", "--run", loser, env=landing.env)
    assert refused.code == 2, refused
    assert f"run {winner.json['runs'][0]['run_id']} started from the same watermark" in refused.json["error"]
    assert f"bronze/_manifests/orders/{loser}.json" not in landing.keys("bronze/_manifests/")
    verify = lakeml("--json", "ingest", "verify", "--table", "ORDERS", env=landing.env)
    assert verify.code == 0 and verify.json["ORDERS"]["duplicates"] == 0, verify

    delete(landing, landing.keys("bronze/orders/") + landing.keys("bronze/_manifests/orders/"))
    assert lakeml("--json", "ingest", "verify", "--table", "ORDERS", env=landing.env).code == 1
    whole = lakeml("--json", "ingest", "restore", "--table", "ORDERS", "--all-deleted", env=landing.env)
    assert whole.code == 0, whole
    committed = [first.json["runs"][0]["run_id"], winner.json["runs"][0]["run_id"]]
    assert [run["run_id"] for run in whole.json["runs"]] == committed
    assert [run["run_id"] for run in whole.json["skipped"]] == [loser]
    verify = lakeml("--json", "ingest", "verify", "--table", "ORDERS", env=landing.env)
    assert verify.code == 0, verify
    assert (verify.json["ORDERS"]["duplicates"], verify.json["ORDERS"]["bronze_rows"]) == (0, 18)


def test_restore_without_runs_named_exits_2_saying_how_to_name_them(lakeml, landing: AwsLanding) -> None:
    result = lakeml("--json", "ingest", "restore", "--table", "ORDERS", env=landing.env)
    assert result.code == 2, result
    assert "--run <run_id> (repeatable) or --all-deleted" in result.json["error"]
