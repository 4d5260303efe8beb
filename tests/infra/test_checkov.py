"""checkov passes on infra/ with 0 failed checks, and every check it skips says why, inline in the .tf.

checkov pins its own boto3, so it cannot live in the project's environment: it runs as a uv tool
(`uv tool run --from checkov==3.3.30`, what `uvx` is), installed into uv's tool cache from PyPI on first
use and offline after that. uv is found the way the Makefile finds it (`uv` on PATH, else `.tools/uv`).
Without uv, or where checkov cannot be installed, the test skips saying so — or fails where
LAKEML_TEST_REQUIRE_TOOLS names `checkov` (.ci/run sets it).

The modules' `terraform test` files (`*/tests/*.tftest.hcl`) are not Terraform configuration and
checkov's HCL parser rejects them, so `tests/` folders are left out of the scan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing_tool

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
CHECKOV = "checkov==3.3.30"
SKIP = re.compile(r"#\s*checkov:skip=(CKV\w+)(?::(.*))?$")

pytestmark = pytest.mark.xdist_group("checkov")


def _uv() -> str:
    found = shutil.which("uv") or str(REPO / ".tools" / "uv" / "bin" / "uv")
    if not Path(found).is_file():
        missing_tool(
            "checkov",
            "uv not found (on PATH or .tools/uv): `make setup` installs it; checkov runs as a uv tool",
        )
    return found


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    command = [
        _uv(),
        "tool",
        "run",
        "--from",
        CHECKOV,
        "checkov",
        "--directory",
        str(INFRA),
        "--framework",
        "terraform",
        "--skip-download",
        "--skip-path",
        "tests/",
        "--compact",
        "--output",
        "json",
    ]
    env = {**os.environ, "UV_NO_PROGRESS": "1", "LOG_LEVEL": "WARNING"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, cwd=REPO)
    try:
        document = json.loads(proc.stdout)
    except json.JSONDecodeError:
        missing_tool(
            "checkov",
            f"`uv tool run --from {CHECKOV} checkov` gave no report (exit {proc.returncode}); checkov installs "
            f"from PyPI on first use: {proc.stderr.strip()[-600:]}",
        )
    # One framework gives one report; checkov prints a list when it has several.
    reports = document if isinstance(document, list) else [document]
    assert [r["check_type"] for r in reports] == ["terraform"], reports
    return dict(reports[0])


def test_checkov_has_no_failed_check_and_parses_every_file(report: dict[str, Any]) -> None:
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for c in report["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0, "checkov failed checks:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] >= 100, f"checkov scanned too little of infra/: {summary}"
    assert summary["passed"] > summary["skipped"]


def test_every_skip_checkov_applied_carries_its_reason(report: dict[str, Any]) -> None:
    unexplained = [
        f"{c['check_id']} on {c['resource']} ({c['file_path']})"
        for c in report["results"]["skipped_checks"]
        if len((c.get("check_result") or {}).get("suppress_comment") or "") < 20
    ]
    assert not unexplained, (
        "checkov skips without a reason (write `# checkov:skip=CKV_…:<why>`):\n" + "\n".join(unexplained)
    )


def test_every_inline_skip_in_the_terraform_says_why() -> None:
    """Static, without checkov: every `checkov:skip` comment in infra/ has a reason of a few words, and
    skips are inline only (no global --skip-check, no .checkov config that could hide a failure)."""
    skips = 0
    for path in sorted(INFRA.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = SKIP.search(line)
            if match is None:
                continue
            skips += 1
            reason = (match.group(2) or "").strip()
            assert len(reason.split()) >= 4, (
                f"{path.relative_to(REPO)}:{number}: {match.group(1)} skipped without a reason"
            )
    assert skips > 0
    assert not list(REPO.glob(".checkov*")) and not list(INFRA.rglob(".checkov*"))
