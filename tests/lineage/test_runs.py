"""dbt's run results published to the lake (`lakeml.transform.runs`) and read back by training and
feature ingestion, on both lake adapters (a folder and an S3 bucket on a moto server)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from lakeml.core.lake import LakeStorage
from lakeml.core.lake.local import LocalLake
from lakeml.core.lake.runs import DBT_LATEST, DbtRun, latest_dbt_run, read_json
from lakeml.core.lake.s3 import S3Lake
from lakeml.transform.runs import VISIBILITY_INDEX, publish_run_results, visible_bronze
from ml_pipelines.feature_store.lineage import resolve_dbt_invocation
from ml_pipelines.training import with_dbt_invocation
from tests.contract.aws_emulator import REGION, create_bucket


@pytest.fixture(params=["folder", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> LakeStorage:
    if request.param == "folder":
        return LocalLake.create(tmp_path / "lake")
    endpoint = request.getfixturevalue("aws_endpoint")
    bucket = f"lakeml-lake-{uuid.uuid4().hex[:10]}"
    create_bucket(endpoint, bucket)
    return S3Lake(bucket, REGION, endpoint)


@pytest.fixture(scope="module")
def aws_endpoint():
    from tests.contract.aws_emulator import moto_server

    with moto_server() as endpoint:
        yield endpoint


def dbt_target(tmp_path: Path, invocation_id: str) -> Path:
    """A dbt target folder holding a run_results.json as dbt writes it (trimmed)."""
    folder = tmp_path / f"target-{invocation_id}"
    folder.mkdir()
    (folder / "run_results.json").write_text(
        json.dumps(
            {
                "metadata": {"invocation_id": invocation_id, "generated_at": "2026-12-03T10:21:15Z"},
                "results": [{"unique_id": "model.lakeml.customers", "status": "success"}],
                "args": {"which": "build"},
            }
        )
    )
    return folder


def test_a_build_publishes_its_run_results_bronze_runs_and_the_latest_pointer(
    lake: LakeStorage, tmp_path: Path
) -> None:
    bronze = {"customers": [{"table": "CUSTOMERS", "run_id": "r1", "landed": 3}]}
    first = publish_run_results(
        lake, dbt_target(tmp_path, "inv-1"), target="local", success=True, bronze_runs=bronze
    )
    assert first == DbtRun(
        "inv-1", lake.uri_of("runs/dbt/inv-1/run_results.json"), "local", "2026-12-03T10:21:15Z", True
    )
    assert read_json(lake, "runs/dbt/inv-1/run_results.json")["results"][0]["status"] == "success"
    assert read_json(lake, "runs/dbt/inv-1/bronze_runs.json") == bronze
    assert latest_dbt_run(lake) == first

    second = publish_run_results(
        lake, dbt_target(tmp_path, "inv-2"), target="glue", success=False, bronze_runs={}
    )
    assert latest_dbt_run(lake) == second and read_json(lake, DBT_LATEST)["success"] is False
    assert read_json(lake, "runs/dbt/inv-1/run_results.json") is not None  # earlier builds stay


def test_nothing_is_published_when_dbt_wrote_no_run_results(lake: LakeStorage, tmp_path: Path) -> None:
    assert publish_run_results(lake, tmp_path, target="local", success=False, bronze_runs={}) is None
    assert latest_dbt_run(lake) is None


def test_the_bronze_index_transform_copies_is_the_one_ingestion_writes(lake: LakeStorage) -> None:
    from ingestion.visibility import index_path

    assert index_path("customers") == f"{VISIBILITY_INDEX}/customers.json"
    lake.fs.create_dir(lake.path(VISIBILITY_INDEX), recursive=True)
    with lake.fs.open_output_stream(lake.path(index_path("customers"))) as out:
        out.write(b'{"table": "CUSTOMERS", "run_id": "r1"}\n{"table": "CUSTOMERS", "run_id": "r2"}\n')
    with lake.fs.open_output_stream(lake.path(VISIBILITY_INDEX, ".tmp-orders.json")) as out:
        out.write(b"half written")
    assert visible_bronze(lake) == {
        "customers": [{"table": "CUSTOMERS", "run_id": "r1"}, {"table": "CUSTOMERS", "run_id": "r2"}]
    }


def test_training_pins_the_latest_build_unless_told_and_ingestion_resolves_latest(
    lake: LakeStorage, tmp_path: Path
) -> None:
    assert with_dbt_invocation(lake, {"MaxTuningJobs": "2"}) == {"MaxTuningJobs": "2"}  # none published
    assert resolve_dbt_invocation(lake, "latest") == {"dbt_invocation_id": "unknown"}

    published = publish_run_results(
        lake, dbt_target(tmp_path, "inv-9"), target="local", success=True, bronze_runs={}
    )
    assert published is not None
    assert with_dbt_invocation(lake, None) == {"DbtInvocationId": "inv-9"}
    assert with_dbt_invocation(lake, {"DbtInvocationId": "mine"}) == {"DbtInvocationId": "mine"}
    assert resolve_dbt_invocation(lake, "latest") == {
        "dbt_invocation_id": "inv-9",
        "dbt_run_results": published.run_results,
        "dbt_success": True,
    }
    assert resolve_dbt_invocation(lake, "inv-3") == {"dbt_invocation_id": "inv-3"}
