"""When the daily build may leave dbt's unit tests out: only while the code they passed on is unchanged
(`lakeml.transform.unit_tests`). The builds themselves are in test_build.py (the daily build reports
`unit_tests_skipped`); these cases pin the record's rules without a Spark start."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lakeml.transform import unit_tests
from lakeml.transform.report import BuildReport, NodeResult


def _report(*statuses: str) -> BuildReport:
    nodes = [
        NodeResult(name=f"u{i}", unique_id=f"unit_test.lakeml.m.u{i}", resource_type="unit_test", status=s)
        for i, s in enumerate(statuses)
    ]
    nodes.append(NodeResult(name="m", unique_id="model.lakeml.m", resource_type="model", status="success"))
    return BuildReport(target="local", nodes=nodes, invocation_id="inv-1")


def test_unit_tests_are_left_out_only_after_they_all_passed_on_the_same_code(tmp_path: Path) -> None:
    results = tmp_path / "dbt" / "target"
    code = unit_tests.fingerprint("local")
    assert not unit_tests.passed_before(results, "local", code)  # nothing recorded: run them
    unit_tests.remember(results, "local", code, _report("pass", "pass"))
    assert unit_tests.passed_before(results, "local", code)
    assert not unit_tests.passed_before(results, "glue", unit_tests.fingerprint("glue"))  # per target
    assert not unit_tests.passed_before(results, "local", "other code")
    unit_tests.remember(results, "local", code, BuildReport(target="local"))  # a build without them
    assert unit_tests.passed_before(results, "local", code)
    unit_tests.remember(results, "local", code, _report("pass", "fail"))  # one failed: forget
    assert not unit_tests.passed_before(results, "local", code)


def test_any_change_to_the_project_changes_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(unit_tests.PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(unit_tests, "PROJECT_DIR", project)
    before = unit_tests.fingerprint("local")
    (project / "target").mkdir(exist_ok=True)
    (project / "target" / "manifest.json").write_text("{}")  # dbt's own output does not count
    assert unit_tests.fingerprint("local") == before
    model = project / "models" / "gold" / "customer_features.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert unit_tests.fingerprint("local") != before
