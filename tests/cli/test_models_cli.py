"""`lakeml models …` through the real command line, over the local registry in the test's LAKEML_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_pipelines.registry.sqlite import SqliteModelRegistry
from tests.ml_pipelines.serving.conftest import train_model

GROUP = "lakeml-churn"
APPROVER = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.email", "GIT_CONFIG_VALUE_0": "ci@example.com"}


@pytest.fixture
def registry(home: Path) -> SqliteModelRegistry:
    """Three pending versions of the default group, as the pipeline's register step leaves them."""
    registry = SqliteModelRegistry(home / "state.db")
    registry.create_group(GROUP)
    for number, auc in enumerate((0.81, 0.83, 0.85), start=1):
        train_model(home / "lake" / "models" / f"v{number}", seed=number)  # approving deploys it locally
        registry.register(
            GROUP, f"s3://lakeml-lake/models/v{number}", "lakeml:1", {"auc": auc}, {"git_sha": "abc"}
        )
    return registry


def test_list_without_groups_says_so(lakeml) -> None:
    result = lakeml("models", "list", "--json")
    assert result.code == 0, result
    assert result.json == {"groups": []}


def test_approve_records_who_when_why_and_makes_the_champion(lakeml, registry: SqliteModelRegistry) -> None:
    result = lakeml("--json", "models", "approve", "2", "--reason", "AUC 0.83 beats the floor", env=APPROVER)
    assert result.code == 0, result
    doc = result.json
    assert doc["event"]["by"] == "ci@example.com"  # default approver: git user.email
    assert doc["event"]["reason"] == "AUC 0.83 beats the floor"
    assert (doc["event"]["from_status"], doc["event"]["to_status"]) == ("PendingManualApproval", "Approved")
    assert doc["champion"]["version"] == 2 and doc["champion_changed"] is True
    assert doc["effects"]["deployed"]["version"] == f"{GROUP}/2"  # the local endpoint now serves it
    shown = lakeml("models", "show", "champion", "--json")
    assert shown.code == 0, shown
    assert shown.json["version"] == 2 and shown.json["champion"] is True
    assert [e["by"] for e in shown.json["history"]] == ["ci@example.com"]
    assert registry.champion(GROUP).version == 2  # type: ignore[union-attr]


def test_rejecting_the_champion_hands_back_to_the_previous_approved(
    lakeml, registry: SqliteModelRegistry
) -> None:
    registry.approve(GROUP, 1, by="alice", reason="first")
    registry.approve(GROUP, 3, by="alice", reason="better")
    result = lakeml("models", "reject", "champion", "--by", "bob", "--reason", "drifted in staging")
    assert result.code == 0, result
    assert "lakeml-churn/3: Approved -> Rejected by bob" in result.stdout
    assert "champion of lakeml-churn: 1 (changed)" in result.stdout
    listed = lakeml("models", "list", "--group", GROUP, "--json").json
    assert listed["champion"] == 1
    assert [v["status"] for v in listed["versions"]] == ["Approved", "PendingManualApproval", "Rejected"]


def test_list_shows_groups_and_versions(lakeml, registry: SqliteModelRegistry) -> None:
    registry.approve(GROUP, 2, by="alice", reason="ok")
    groups = lakeml("models", "list", "--json").json["groups"]
    assert groups == [{"group": GROUP, "versions": 3, "pending": 2, "champion": 2}]
    table = lakeml("models", "list", "--group", GROUP)
    assert table.code == 0, table
    assert "2 *" in table.stdout and "0.8300" in table.stdout and "alice" in table.stdout


def test_unknown_version_exits_2_naming_it_and_how_to_list(lakeml, registry: SqliteModelRegistry) -> None:
    result = lakeml("models", "approve", "9", "--reason", "x")
    assert result.code == 2, result
    assert "lakeml-churn/9 does not exist" in result.stderr
    assert "lakeml models list --group lakeml-churn" in result.stderr


def test_unknown_group_exits_2_with_json_error(lakeml, registry: SqliteModelRegistry) -> None:
    result = lakeml("models", "show", "1", "--group", "nope", "--json")
    assert result.code == 2, result
    assert "'nope' does not exist; groups: lakeml-churn" in result.json["error"]


def test_repeating_a_decision_exits_2_and_says_how_to_reverse(lakeml, registry: SqliteModelRegistry) -> None:
    registry.reject(GROUP, 1, by="alice", reason="worse")
    result = lakeml("models", "reject", "1", "--reason", "again")
    assert result.code == 2, result
    assert "already Rejected" in result.stderr and "lakeml models approve 1" in result.stderr


def test_a_decision_without_a_reason_is_refused(lakeml, registry: SqliteModelRegistry) -> None:
    result = lakeml("models", "approve", "1")
    assert result.code == 2, result
    assert "--reason" in result.stderr
    assert registry.get(GROUP, 1).status == "PendingManualApproval"


def test_approve_deploys_and_rollback_returns_to_the_previous_approved(
    lakeml, registry: SqliteModelRegistry
) -> None:
    assert lakeml("models", "approve", "1", "--by", "alice", "--reason", "first").code == 0
    approved = lakeml("models", "approve", "3", "--by", "alice", "--reason", "better")
    assert "deployed lakeml-churn/3 to lakeml-churn" in approved.stdout, approved
    rolled = lakeml("--json", "models", "rollback")
    assert rolled.code == 0, rolled
    assert (rolled.json["rolled_back_from"], rolled.json["version"]) == (f"{GROUP}/3", f"{GROUP}/1")


def test_a_failed_deploy_keeps_the_decision_and_exits_1(
    lakeml, registry: SqliteModelRegistry, home: Path
) -> None:
    import shutil

    shutil.rmtree(home / "lake" / "models" / "v2")
    result = lakeml("models", "approve", "2", "--by", "alice", "--reason", "ok")
    assert result.code == 1, result
    assert "previous version keeps serving" in result.stderr
    assert registry.get(GROUP, 2).status == "Approved"
