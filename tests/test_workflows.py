"""The GitHub Actions workflows follow the project's CI/CD policy, and actionlint + zizmor accept them.

Policy (issue 15): every action pinned by a full commit SHA with a version comment, checkout without
persisted credentials, `permissions: {}` at the top and the least per job (id-token only where a role is
assumed), no `${{ }}` expansion inside `run:` (values go through `env:`), deploy.yml promotes
dev -> staging -> prod through GitHub environments, one concurrency group per environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^\s*-?\s*uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")
ENVIRONMENTS = ["dev", "staging", "prod"]


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return dict(document)


def _steps(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in document["jobs"].items() for step in spec.get("steps", [])]


@pytest.fixture(scope="module", params=[CI, DEPLOY], ids=lambda p: p.name)
def workflow(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    assert path.is_file(), f"{path} is missing"
    return path


def test_every_action_is_pinned_by_commit_with_a_version_comment(workflow: Path) -> None:
    lines = [line for line in workflow.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines, f"{workflow.name} uses no action"
    unpinned = [line.strip() for line in lines if not PINNED.match(line)]
    assert not unpinned, f"{workflow.name}: pin by full commit SHA with `# vX.Y.Z`: {unpinned}"


def test_one_sha_per_action_across_workflows() -> None:
    pins: dict[str, set[str]] = {}
    for path in (CI, DEPLOY):
        for match in re.finditer(r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})", path.read_text()):
            pins.setdefault(match[1], set()).add(match[2])
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


def test_checkout_never_persists_credentials(workflow: Path) -> None:
    for job, step in _steps(_load(workflow)):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, job


def test_permissions_are_empty_on_top_and_least_per_job(workflow: Path) -> None:
    document = _load(workflow)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{name}: set `permissions:` on the job"
        assumes_role = any(
            str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
            for step in job.get("steps", [])
        )
        assert ("id-token" in granted) == assumes_role, f"{name}: id-token only where a role is assumed"
        assert all(value in ("read", "write") for value in granted.values()), name
        allowed = {"contents": "read", "id-token": "write", "pull-requests": "write"}
        if workflow == DEPLOY and name == "record-images":  # pushes the digest notes, reads artifacts
            allowed = {"contents": "write", "actions": "read"}
        extra = {k: v for k, v in granted.items() if allowed.get(k) != v}
        assert not extra, f"{name}: more than needed: {extra}"
        if "pull-requests" in granted:
            assert workflow == CI and name == "plan", f"{name}: pull-requests: write is the plan's only"


def test_no_expression_inside_run(workflow: Path) -> None:
    for job, step in _steps(_load(workflow)):
        assert "${{" not in str(step.get("run", "")), f"{job}: pass values through env:, not ${{{{ }}}}"


def test_ci_runs_lint_tests_dbt_parse_checkov_and_a_plan_per_env() -> None:
    document = _load(CI)
    assert set(document["on"]) == {"pull_request", "push"}
    assert document["on"]["push"]["branches"] == ["main"]
    runs = {
        job: " ".join(str(s.get("run", "")) for s in spec["steps"]) for job, spec in document["jobs"].items()
    }
    assert "make lint" in runs["lint"]
    assert "make test" in runs["test"]
    assert "dbt parse" in runs["dbt-parse"] and "--target" in runs["dbt-parse"]
    assert "checkov -d infra" in runs["checkov"]
    plan = document["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["env"] == ENVIRONMENTS
    assert plan["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert "terraform" in runs["plan"] and "plan" in runs["plan"] and "-lock=false" in runs["plan"]
    assert "GITHUB_STEP_SUMMARY" in runs["plan"] and "gh pr comment" in runs["plan"]
    assume = next(s for s in plan["steps"] if "configure-aws-credentials" in str(s.get("uses")))
    assert "PLAN_ROLE_ARN" in assume["with"]["role-to-assume"]
    assert "vars[" in assume["with"]["role-to-assume"], "the role comes from a repository variable"


def test_deploy_promotes_dev_then_staging_then_prod_one_at_a_time_per_env() -> None:
    document = _load(DEPLOY)
    assert set(document["on"]) == {"push", "workflow_dispatch"}
    jobs = document["jobs"]
    order: list[str] = []
    for name in ("dev", "staging", "prod"):
        job = jobs[name]
        assert job["environment"] == name
        assert job["concurrency"] == {"group": f"deploy-{name}", "cancel-in-progress": False}
        assert f"lakeml deploy env {name}" in " ".join(str(s.get("run", "")) for s in job["steps"])
        order.append(name)
    assert jobs["dev"]["needs"] == ["images"]
    assert jobs["staging"]["needs"] == ["dev"]
    assert jobs["prod"]["needs"] == ["staging"]
    assert order == ENVIRONMENTS
    images = jobs["images"]
    assert set(images["outputs"]) == {"ml", "lambda"}
    assert any("make images" in str(s.get("run", "")) for s in images["steps"])
    assert any("upload-artifact" in str(s.get("uses", "")) for s in images["steps"])
    notes = jobs["record-images"]
    assert notes["needs"] == ["images", "dev", "staging", "prod"]
    from lakeml.cli.release import IMAGES_NOTES_PREFIX  # what `lakeml deploy rollback-infra` reads

    assert f"refs/notes/{IMAGES_NOTES_PREFIX}$env" in " ".join(str(s.get("run", "")) for s in notes["steps"])
    assert [j for j, spec in jobs.items() if spec.get("permissions", {}).get("contents") == "write"] == [
        "record-images"
    ]
    smoke = " ".join(str(s.get("run", "")) for s in jobs["dev"]["steps"])
    assert "lakeml run" in smoke and "invoke-endpoint" in smoke
    dev_env = {k: v for s in jobs["dev"]["steps"] for k, v in (s.get("env") or {}).items()}
    assert dev_env["LAKEML_ENV"] == "aws"
    assert (REPO / dev_env["LAKEML_INGEST__SOURCES"]).is_file()
    assert (REPO / ".github" / "smoke" / "payload.json").is_file()


def test_the_smoke_sources_file_is_valid_and_small() -> None:
    from ingestion.config import load_sources

    tables = load_sources(REPO / ".github" / "smoke" / "sources.yml").tables
    assert 0 < len(tables) <= 2


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: `make setup` installs it (pyproject dev group)")
    return str(path)


def test_actionlint_accepts_both_workflows() -> None:
    proc = subprocess.run(
        [_tool("actionlint"), str(CI), str(DEPLOY)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_offline_finds_nothing_at_medium_or_above() -> None:
    proc = subprocess.run(
        [_tool("zizmor"), "--offline", "--min-severity", "medium", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_make_lint_runs_both_offline() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert ".venv/bin/actionlint" in lint
    assert ".venv/bin/zizmor --offline" in lint
    assert ".venv/bin/statelint" in lint
