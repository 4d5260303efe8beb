"""`lakeml pipeline definition` on AWS settings puts every job on the env's CMK and in its private subnets
(issue 13 §4); without those settings (locally) the definition has neither, so the local runner's
definition is the committed snapshot (test_cli_pipeline.py, test_pipeline.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("ml_cli")

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SUBNETS = ["subnet-0a1b2c3d4e5f67890", "subnet-0f9e8d7c6b5a43210"]
GROUPS = ["sg-0a1b2c3d4e5f67890"]
HARDENED = {
    "LAKEML_AWS__ACCOUNT_ID": "123456789012",
    "LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN": KEY,
    "LAKEML_AWS__SAGEMAKER_SUBNET_IDS": json.dumps(SUBNETS),
    "LAKEML_AWS__SAGEMAKER_SECURITY_GROUP_IDS": json.dumps(GROUPS),
}
VPC = {"SecurityGroupIds": GROUPS, "Subnets": SUBNETS}


def steps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step, including those inside a condition's branches."""
    for step in document["Steps"]:
        yield step
        if step["Type"] == "Condition":
            yield from step["Arguments"]["IfSteps"]
            yield from step["Arguments"]["ElseSteps"]


def definition(lakeml: Any, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = lakeml("pipeline", "definition", *args, env=env)
    assert result.code == 0, result
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("batch", [False, True], ids=["training", "batch"])
def test_every_job_is_encrypted_with_the_cmk_and_runs_in_the_private_subnets(
    lakeml: Any, batch: bool
) -> None:
    document = definition(lakeml, *(["--batch"] if batch else []), env=HARDENED)
    kinds = set()
    for step in steps(document):
        arguments = step.get("Arguments", {})
        kinds.add(step["Type"])
        if step["Type"] == "Processing":
            assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY, step["Name"]
            assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == KEY, step["Name"]
            assert arguments["NetworkConfig"]["VpcConfig"] == VPC, step["Name"]
        elif step["Type"] == "Tuning":
            job = arguments["TrainingJobDefinition"]
            assert job["ResourceConfig"]["VolumeKmsKeyId"] == KEY
            assert job["OutputDataConfig"]["KmsKeyId"] == KEY
            assert job["VpcConfig"] == VPC
        elif step["Type"] == "Transform":
            assert arguments["TransformResources"]["VolumeKmsKeyId"] == KEY
            assert arguments["TransformOutput"]["KmsKeyId"] == KEY
        elif step["Type"] == "Model":
            assert arguments["VpcConfig"] == {"Subnets": SUBNETS, "SecurityGroupIds": GROUPS}
    # every kind of job SageMaker runs for the pipeline was looked at
    assert kinds >= ({"Processing", "Model", "Transform"} if batch else {"Processing", "Tuning"})


@pytest.mark.parametrize("batch", [False, True], ids=["training", "batch"])
def test_without_the_settings_no_job_names_a_key_or_a_network(lakeml: Any, batch: bool) -> None:
    text = json.dumps(definition(lakeml, *(["--batch"] if batch else [])))
    for name in ("KmsKeyId", "VpcConfig", "NetworkConfig"):
        assert name not in text
