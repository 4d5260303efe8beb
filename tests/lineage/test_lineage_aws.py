"""`lakeml lineage` with LAKEML_ENV=aws, on a moto server: the same command follows the same records
through the AWS adapters — the SageMaker model registry, the S3 lake and the SageMaker deployer. The
records are written through the wired ports, as the stages write them on AWS."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pytest

from tests.contract.aws_emulator import REGION, client, create_bucket, moto_server
from tests.transform.bronze import ChurnHistory, write_run

BUCKET = "lakeml-lineage-lake"
ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution"
EXECUTION = "p-0123456789ab"
pytestmark = pytest.mark.xdist_group("lineage-aws")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        create_bucket(url, BUCKET)
        yield url


@pytest.fixture
def aws_env(endpoint: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__ENDPOINT_URL": endpoint,
        "LAKEML_AWS__LAKE_BUCKET": BUCKET,
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN": ROLE,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def put_json(lake: Any, relative: str, document: Any) -> None:
    with lake.fs.open_output_stream(lake.path(relative)) as out:
        out.write(json.dumps(document).encode())


def test_lineage_on_aws_reads_the_registry_the_bucket_and_the_endpoint(
    lakeml: Any, aws_env: dict[str, str], tmp_path: Path
) -> None:
    from lakeml.core.lake.local import LocalLake
    from lakeml.core.settings import load_settings
    from lakeml.transform.runs import publish_run_results, visible_bronze
    from lakeml.wiring import adapters

    ports = adapters(load_settings())
    lake = ports.lake
    # bronze as ingestion lands it (manifests + visibility index), copied into the bucket
    landed = tmp_path / "landed"
    history = ChurnHistory()
    write_run(
        landed,
        "CUSTOMERS",
        "run-aws",
        datetime(2025, 4, 1).date(),
        history.before("CUSTOMERS", datetime(2025, 4, 1)),
    )
    pafs.copy_files(str(LocalLake.create(landed).folder), lake.root, destination_filesystem=lake.fs)
    target = tmp_path / "dbt-target"
    target.mkdir()
    (target / "run_results.json").write_text(
        json.dumps(
            {
                "metadata": {"invocation_id": "inv-aws"},
                "results": [{"status": "success"}],
                "args": {"which": "build"},
            }
        )
    )
    publish_run_results(lake, target, target="glue", success=True, bronze_runs=visible_bronze(lake))
    executions = f"ml/churn/executions/{EXECUTION}"
    put_json(
        lake,
        f"{executions}/ingest/report/ingest.json",
        {"feature_group": "fg", "rows": 5, "lineage": {"dbt_invocation_id": "inv-aws"}},
    )
    put_json(
        lake,
        f"{executions}/prepare/report/split.json",
        {"splits": {"test": {"rows": 2, "snapshot_from": "2025-03-30", "snapshot_to": "2025-03-31"}}},
    )
    put_json(
        lake,
        f"{executions}/evaluate/evaluation/evaluation.json",
        {"lineage": {"training_job": "lakeml-train-7"}},
    )
    with lake.fs.open_output_stream(lake.path("models/churn/model.tar.gz")) as out:
        out.write(b"a model artefact")

    ports.registry.create_group("lakeml-churn")
    version = ports.registry.register(
        "lakeml-churn",
        f"s3://{BUCKET}/models/churn/model.tar.gz",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-dev-ml:abc",
        {"auc": 0.9},
        {
            "pipeline_execution_id": EXECUTION,
            "dbt_invocation_id": "inv-aws",
            "data_snapshot": "2025-03-31",
            "git_sha": "abc",
        },
    )
    # moto keeps one SageMaker backend per process, whatever server serves it: an earlier test in this
    # xdist worker may have left an endpoint of this name, and moto has no UpdateEndpoint. Start from none.
    sagemaker = client("sagemaker", aws_env["LAKEML_AWS__ENDPOINT_URL"])
    with contextlib.suppress(sagemaker.exceptions.ClientError):
        sagemaker.delete_endpoint(EndpointName="lakeml-churn")
    deployed = ports.deployer.deploy(version, "lakeml-churn")

    result = lakeml("--json", "lineage", str(version.version), env=aws_env)
    assert result.code == 0, result
    doc = result.json
    assert doc["gaps"] == []
    assert doc["model"]["arn"].startswith("arn:aws:sagemaker:")
    assert doc["dbt"]["invocation_id"] == "inv-aws"
    assert doc["dbt"]["run_results"] == f"s3://{BUCKET}/runs/dbt/inv-aws/run_results.json"
    assert [(r["table"], r["run_id"]) for r in doc["bronze_runs"]] == [("CUSTOMERS", "run-aws")]
    assert doc["source_windows"]["customers"]["runs"] == 1
    assert doc["training"]["training_job"] == "lakeml-train-7"
    assert doc["training"]["splits"]["test"]["snapshot_to"] == "2025-03-31"
    assert doc["features"]["lineage"]["dbt_invocation_id"] == "inv-aws"
    production = next(e for e in doc["endpoints"] if e["endpoint"] == "lakeml-churn")
    assert production["this_version"] is True
    assert production["config"] == deployed.detail["endpoint_config"]
