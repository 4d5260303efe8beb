"""The same studio pages with LAKEML_ENV=aws, on a moto server: the SageMaker model registry, the S3 lake
and the SageMaker deployer through the wired ports, and an approval recorded in SageMaker's registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

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


@pytest.fixture
def aws_client(endpoint: str, home: Path, monkeypatch: pytest.MonkeyPatch):
    from starlette.testclient import TestClient

    from lakeml.core.settings import load_settings
    from lakeml.studio.app import create_app
    from lakeml.wiring import adapters

    env = {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__ENDPOINT_URL": endpoint,
        "LAKEML_AWS__LAKE_BUCKET": BUCKET,
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN": ROLE,
    }
    for name, value in env.items():
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
