"""Registry and endpoint rollback on the emulator: `lakeml deploy rollback-endpoint` through the command line
with LAKEML_ENV=aws, against SageMaker's model registry and endpoint on moto.

moto has no UpdateEndpoint; `update_endpoint_shim` adds it to the moto server of this process, leaving
the endpoint on the new config the way a finished blue/green update does (what tests/contract's
UpdateEndpointStub does for the deployer's own client, here on the server so the CLI's clients reach it).
Not emulated: the canary traffic shift and the alarm-driven automatic rollback of a blue/green update.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse

from lakeml.core.settings import Settings
from tests.contract.aws_emulator import REGION, client, create_bucket

pytestmark = pytest.mark.xdist_group("dr")

ROLE = "arn:aws:iam::123456789012:role/lakeml-sagemaker-execution"


def _update_endpoint(self: SageMakerResponse) -> ActionResult:
    name, config = self._get_param("EndpointName"), self._get_param("EndpointConfigName")
    backend = self.sagemaker_backend
    tags = backend.describe_endpoint(name).get("Tags")
    arn = backend.describe_endpoint(name)["EndpointArn"]
    backend.delete_endpoint(name)
    backend.create_endpoint(endpoint_name=name, endpoint_config_name=config, tags=tags)
    return ActionResult({"EndpointArn": arn})


@pytest.fixture
def update_endpoint_shim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SageMakerResponse, "update_endpoint", _update_endpoint, raising=False)


@pytest.fixture
def estate(aws_endpoint: str, home, update_endpoint_shim: None) -> dict[str, Any]:
    """A lake bucket, a model package group with versions 1-3 (1 and 2 Approved, 3 pending) and version 2
    serving on the endpoint; the settings of `lakeml` on it."""
    from lakeml.wiring import adapters

    suffix = uuid.uuid4().hex[:8]
    bucket, group, endpoint = f"lakeml-lake-{suffix}", f"churn-{suffix}", f"churn-{suffix}"
    create_bucket(aws_endpoint, bucket)
    env = {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__ENDPOINT_URL": aws_endpoint,
        "LAKEML_AWS__LAKE_BUCKET": bucket,
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN": ROLE,
    }
    ports = adapters(
        Settings(
            env="aws",
            aws={
                "region": REGION,
                "endpoint_url": aws_endpoint,
                "lake_bucket": bucket,
                "sagemaker_role_arn": ROLE,
            },
        )
    )
    ports.registry.create_group(group)
    s3 = client("s3", aws_endpoint)
    for number in (1, 2, 3):
        key = f"models/{group}/v{number}/model.tar.gz"
        s3.put_object(Bucket=bucket, Key=key, Body=b"model.tar.gz")
        ports.registry.register(group, f"s3://{bucket}/{key}", "lakeml:test", {"auc": 0.8}, {})
    ports.registry.approve(group, 1, by="alice", reason="drill")
    ports.deployer.deploy(ports.registry.approve(group, 2, by="alice", reason="drill"), endpoint)
    assert ports.deployer.serving(endpoint) == (group, 2)
    return {"env": env, "group": group, "endpoint": endpoint, "ports": ports}


def test_rollback_endpoint_serves_the_previous_approved_version_on_sagemaker_and_leaves_the_registry(
    lakeml, estate: dict[str, Any]
) -> None:
    group, endpoint, env = estate["group"], estate["endpoint"], estate["env"]
    args = ("deploy", "rollback-endpoint", "--group", group, "--endpoint", endpoint)
    statuses = [v.status for v in estate["ports"].registry.list_versions(group)]

    planned = lakeml(*args, "--dry-run", "--json", env=env)
    assert planned.code == 0, planned
    assert (planned.json["from"], planned.json["to"], planned.json["done"]) == (
        f"{group}/2",
        f"{group}/1",
        False,
    )
    refused = lakeml(*args, env={**env, "CI": "true"})
    assert refused.code == 2 and "--yes" in refused.stderr, refused

    done = lakeml(*args, "--yes", "--json", env=env)
    assert done.code == 0, done
    assert (done.json["result"]["version"], done.json["result"]["rolled_back_from"]) == (
        f"{group}/1",
        f"{group}/2",
    )
    assert done.json["result"]["action"] == "updated"
    assert estate["ports"].deployer.serving(endpoint) == (group, 1)
    assert [v.status for v in estate["ports"].registry.list_versions(group)] == statuses  # registry unchanged

    again = lakeml(*args, "--dry-run", "--json", env=env)
    assert again.code == 1 and "no earlier version is Approved" in again.json["error"], again
