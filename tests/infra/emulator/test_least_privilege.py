"""Least privilege, checked mechanically (issue 13 §3): every runtime runs as its own role against the
estate, every AWS call it makes is recorded (tests/infra/emulator/iam/recorder.py), mapped to its IAM
action and resource ARN, and evaluated against that role's policies as Terraform applied them. A denied
call fails naming the call and the grant it needs; a granted action no call used fails unless
tests/infra/emulator/iam/justifications.py explains it. LAKEML_TEST_IAM_REPORT (set by `make infra-check`)
is where the JSON report goes; the table is printed either way.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.infra.emulator.estate import Estate
from tests.infra.emulator.iam.bucket_policy import conditional_bucket_policies
from tests.infra.emulator.iam.evaluate import role_names, role_policies
from tests.infra.emulator.iam.justifications import NOT_RUN, justified, role_key
from tests.infra.emulator.iam.recorder import RecordingProxy, RoleRun, as_role, recording
from tests.infra.emulator.iam.report import RoleReport, check, show, write
from tests.infra.emulator.iam.runtimes import RUNTIMES, World, cleanup, role_name

pytestmark = [pytest.mark.xdist_group("emulator")]

CANNOT_CHECK = {
    "service calls": "calls AWS services make as a role (Lambda's logs and X-Ray, KMS through S3/SNS/DynamoDB, "
    "SageMaker jobs reading channels, ECS pulling images) never pass through lakeml's clients",
    "conditions": "conditions on keys a call does not determine (kms:ViaService, aws:SourceAccount, ...) are "
    "reported as not evaluated, never as allowed",
    "state machine": "the flow role's calls are derived from the applied ASL (every Task state), not recorded "
    "from moto's engine, which calls its backends directly",
}


@dataclass
class Recorded:
    runs: dict[str, list[RoleRun]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)  # runtimes that raised
    absent: list[str] = field(default_factory=list)  # runtimes whose role this env does not create


def run_everything(estate: Estate, home: Path) -> Recorded:
    """Every runtime of `RUNTIMES`, in order (later ones use what earlier ones made), as its role."""
    recorded = Recorded()
    with (
        conditional_bucket_policies(),
        RecordingProxy(estate.endpoint_url, estate.region) as proxy,
        recording(),
    ):
        world = World(estate, proxy, home)
        try:
            for runtime in RUNTIMES:
                arn = runtime.role(world)
                if arn is None:
                    recorded.absent.append(runtime.name)
                    continue
                run = RoleRun(role_name(arn), arn, runtime.name)
                try:
                    if runtime.derived is not None:
                        run.calls.extend(runtime.derived(world))
                    else:
                        assert runtime.run is not None
                        if runtime.setup is not None:
                            runtime.setup(world)
                        with as_role(run.role, arn, runtime=runtime.name) as run:
                            runtime.run(world)
                except Exception as exc:  # reported with the rest; the test fails on it below
                    recorded.errors.append(f"{runtime.name}: {type(exc).__name__}: {exc}")
                recorded.runs[run.role].append(run)
        finally:
            cleanup(world)
    return recorded


def reports_of(estate: Estate, recorded: Recorded) -> list[RoleReport]:
    reports: list[RoleReport] = []
    for role in sorted(role_names(estate.state)):
        runs = recorded.runs.get(role, [])
        report = check(role, role_policies(estate.state, role), runs, estate.account_id, justified(role))
        if not runs:
            report.not_run = NOT_RUN.get(role_key(role), "no lakeml runtime runs as this role")
        reports.append(report)
    return reports


def test_every_call_is_allowed_and_every_grant_is_used_or_justified(
    estate: Estate, tmp_path_factory: pytest.TempPathFactory
) -> None:
    recorded = run_everything(estate, tmp_path_factory.mktemp("least-privilege"))
    reports = reports_of(estate, recorded)
    show(reports)
    if target := os.environ.get("LAKEML_TEST_IAM_REPORT"):
        notes = {
            "cannot_check": CANNOT_CHECK,
            "runtime_errors": recorded.errors,
            "absent_roles": recorded.absent,
        }
        write(Path(target), reports, notes=notes)

    errors = recorded.errors
    assert not errors, "runtimes failed on the emulator:\n" + "\n".join(errors)
    denied = [f"{r.role}: {line}" for r in reports for line in r.denied]
    assert not denied, "calls the role does not allow:\n" + "\n".join(denied)
    unevaluated = [f"{r.role}: {line}" for r in reports for line in r.not_evaluated]
    assert not unevaluated, "calls only a condition the check cannot evaluate would allow:\n" + "\n".join(
        unevaluated
    )
    unused = [f"{r.role}: {line}" for r in reports for line in r.unused]
    assert not unused, (
        "granted but never used and not justified (remove the grant from infra/modules, or explain it in "
        "tests/infra/emulator/iam/justifications.py):\n" + "\n".join(unused)
    )
