"""The same studio pages with LAKEML_ENV=aws, on a moto server: the SageMaker model registry, the S3 lake,
the SageMaker deployer (what serves, its variants) and SageMaker's pipeline executions through the wired
ports, and an approval recorded in SageMaker's registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeml.core import aws
from tests.contract.aws_emulator import REGION, create_bucket, moto_server

BUCKET = "lakeml-studio-lake"
ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution"
GROUP = "lakeml-churn"
pytestmark = pytest.mark.xdist_group("studio-aws")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        create_bucket(url, BUCKET)
        yield url


def aws_env(endpoint: str) -> dict[str, str]:
    return {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__ENDPOINT_URL": endpoint,
        "LAKEML_AWS__LAKE_BUCKET": BUCKET,
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN": ROLE,
    }


@pytest.fixture
def aws_client(endpoint: str, home: Path, monkeypatch: pytest.MonkeyPatch):
    from starlette.testclient import TestClient

    from lakeml.core.settings import load_settings
    from lakeml.studio.app import create_app
    from lakeml.wiring import adapters

    for name, value in aws_env(endpoint).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    ports = adapters(settings)
    app = create_app(settings, ports, endpoint_url="http://127.0.0.1:9")
    with TestClient(app, follow_redirects=False) as client:
        yield client, ports


def test_registry_lake_and_endpoint_pages_read_aws(aws_client) -> None:
    client, ports = aws_client
    ports.registry.create_group(GROUP)
    for auc in (0.81, 0.84):
        ports.registry.register(GROUP, f"s3://{BUCKET}/models/m{auc}", "lakeml:1", {"auc": auc}, {})
    lake = ports.lake
    lake.fs.create_dir(lake.path("gold", "churn_training_set"), recursive=True)
    with lake.fs.open_output_stream(lake.path("gold", "churn_training_set", "part-0.parquet")) as out:
        pq.write_table(pa.table({"id": [1, 2, 3, 4]}), out)

    group = client.get(f"/models/{GROUP}")
    assert group.status_code == 200 and 'data-version="2"' in group.text and "0.8400" in group.text
    decided = client.post(
        f"/models/{GROUP}/2/decision", data={"decision": "approve", "reason": "best AUC", "by": "alice"}
    )
    assert decided.status_code == 303, decided.text
    assert ports.registry.get(GROUP, 2).status == "Approved"  # recorded in SageMaker's registry
    assert [(e.by, e.reason) for e in ports.registry.history(GROUP, 2)] == [("alice", "best AUC")]
    # On AWS the approval event's Lambda deploys; the studio, like `lakeml models approve`, does not.
    assert ports.deployer.serving("lakeml-churn") is None

    data = client.get("/data")
    assert f"s3://{BUCKET}" in data.text and "<td>churn_training_set</td><td>4</td>" in data.text
    endpoint = client.get("/endpoint")
    assert endpoint.status_code == 200 and 'id="endpoint-serving">nothing deployed<' in endpoint.text
    pipelines = client.get("/pipelines")
    assert pipelines.status_code == 200 and '<label for="execution">Execution ARN</label>' in pipelines.text


def test_the_endpoint_page_shows_the_sagemaker_variants(aws_client, endpoint: str) -> None:
    client, ports = aws_client
    group, production = "lakeml-variants", "lakeml-churn"  # the endpoint the page shows
    ports.registry.create_group(group)
    lake = ports.lake
    with lake.fs.open_output_stream(lake.path("models", "variants", "model.tar.gz")) as out:
        out.write(b"a model artefact")
    url = f"s3://{BUCKET}/models/variants/model.tar.gz"
    ports.registry.register(group, url, "lakeml:1", {"auc": 0.8}, {})
    ports.deployer.deploy(ports.registry.approve(group, 1, by="alice", reason="first"), production)
    try:
        page = client.get("/endpoint")
        assert page.status_code == 200 and f'id="endpoint-serving">{group}/1<' in page.text
        cells = ("AllTraffic", f"{group}/1", "1.0", "100%", "1", "InService")  # instances, status
        assert '<tr data-variant="AllTraffic">' + "".join(f"<td>{c}</td>" for c in cells) in page.text
        [variant] = client.get("/api/endpoint").json()["variants"]
        assert variant == {
            "name": "AllTraffic",
            "version": f"{group}/1",
            "weight": 1.0,
            "instances": 1,
            "status": "InService",
            "share": 1.0,
        }
    finally:  # the module's other tests see nothing deployed on the production endpoint
        aws.client("sagemaker", REGION, endpoint).delete_endpoint(EndpointName=production)


def test_the_pipelines_page_lists_sagemaker_executions_newest_first(
    aws_client, endpoint: str, lakeml
) -> None:
    from tests.contract.test_pipeline_runner import tiny_definition

    client, ports = aws_client
    name = "lakeml-studio-listed"
    ports.pipelines.upsert(name, tiny_definition())
    started = [ports.pipelines.start(name, {"Threshold": str(t)}) for t in (0.5, 0.6)]

    page = client.get("/pipelines")
    assert page.status_code == 200 and 'id="remote-executions"' in page.text
    for arn in started:
        assert f'data-execution="{arn}"' in page.text
        assert f'href="/pipelines/executions/{quote(arn)}"' in page.text
    assert '<label for="execution">Execution ARN</label>' in page.text  # opening one by ARN stays
    listed = client.get("/api/executions").json()["executions"]
    mine = [e for e in listed if e["pipeline"] == name]
    assert {e["execution_id"] for e in mine} == set(started)
    assert all(e["status"] == "Succeeded" for e in mine)
    starts = [e["started_at"] for e in listed]
    assert starts == sorted(starts, reverse=True)

    # `lakeml pipeline executions` lists the same executions through the same port.
    cli = lakeml("--json", "pipeline", "executions", "--pipeline", name, env=aws_env(endpoint))
    assert cli.code == 0, cli
    assert {e["execution_id"] for e in cli.json["executions"]} == set(started)
    assert {e["pipeline"] for e in cli.json["executions"]} == {name}
    missing = lakeml("pipeline", "executions", "--pipeline", "lakeml-never-upserted", env=aws_env(endpoint))
    assert missing.code == 2 and "lakeml pipeline upsert" in missing.stderr
