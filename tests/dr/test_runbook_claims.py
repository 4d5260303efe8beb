"""The recovery points and times docs/runbook.md (*Disaster recovery*) states hold for what is configured:
each figure the runbook gives is read here from the Terraform or the code that sets it, so a change to
either fails this test until the runbook says the new value. (The emulator drills in this folder prove the
procedures; this file keeps the numbers honest.)"""

from __future__ import annotations

import re

from ml_pipelines.serving.deploy.sagemaker import SageMakerDeployConfig
from tests.conftest import REPO

INFRA = REPO / "infra"
RUNBOOK = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
DR = RUNBOOK[RUNBOOK.index("### Disaster recovery") :]


def tf(path: str) -> str:
    return (INFRA / path).read_text(encoding="utf-8")


def variable_default(path: str, name: str) -> str:
    block = tf(path).split(f'variable "{name}"', 1)[1]
    found = re.search(r"^\s*default\s*=\s*(\S+)", block, flags=re.M)
    assert found, f"{path}: variable {name} has no default"
    return found[1]


def test_the_watermark_table_has_point_in_time_recovery_and_deletion_protection_outside_throwaway() -> None:
    state = tf("modules/state/main.tf")
    assert re.search(r"point_in_time_recovery\s*\{\s*enabled\s*=\s*true\s*\}", state)
    assert "recovery_period_in_days" not in state  # so AWS's default period, the 35 days the runbook gives
    assert "point-in-time recovery (35 days" in DR
    assert "deletion_protection = !var.throwaway" in tf("modules/stack/main.tf")


def test_the_lake_keeps_every_version_for_the_days_the_runbook_gives_in_every_env() -> None:
    lake = tf("modules/lake/main.tf")
    assert re.search(r'aws_s3_bucket_versioning" "lake".*?status\s*=\s*"Enabled"', lake, flags=re.S)
    assert "noncurrent_days = var.noncurrent_version_retention_days" in lake
    days = variable_default("modules/lake/variables.tf", "noncurrent_version_retention_days")
    overrides = [
        p.relative_to(INFRA)
        for p in [*INFRA.glob("envs/*/*.tf"), *INFRA.glob("modules/stack/*.tf")]
        if "noncurrent_version_retention_days" in p.read_text(encoding="utf-8")
    ]
    assert not overrides, f"set per env in {overrides}: the runbook says one value for every env"
    assert f"`noncurrent_version_retention_days` ({days} in every env)" in DR


def test_key_and_secret_windows_are_the_runbooks() -> None:
    stack = tf("modules/stack/main.tf")
    assert re.search(r"kms_deletion_window_days\s*=\s*var\.throwaway \? 7 : 30", stack)
    assert re.search(r"secret_recovery_window_days\s*=\s*var\.throwaway \? 0 : 30", stack)
    assert "`kms_deletion_window_days` (30; 7 in throwaway envs)" in DR
    assert "recovery window 30 days (0 in throwaway envs)" in DR


def test_the_endpoint_rollback_time_is_the_deployers_blue_green_policy() -> None:
    config = SageMakerDeployConfig(execution_role_arn=None)
    assert f"`canary_wait_seconds` ({config.canary_wait_seconds} s)" in DR
    assert f"`termination_wait_seconds` ({config.termination_wait_seconds} s)" in DR
    assert f"{config.canary_percent} % canary" in DR
