"""`ml_pipelines.approval`: the one function behind `lakeml models approve|reject` and the approval event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lakeml.core.errors import LakemlError
from ml_pipelines.approval import after_status_change, decide, default_approver
from ml_pipelines.registry import ModelVersion
from ml_pipelines.registry.sqlite import SqliteModelRegistry

GROUP = "lakeml-churn"


@pytest.fixture
def registry(tmp_path: Path) -> SqliteModelRegistry:
    registry = SqliteModelRegistry(tmp_path / "state.db")
    registry.create_group(GROUP)
    for auc in (0.81, 0.84):
        registry.register(GROUP, f"s3://lake/models/{auc}.tar.gz", "img:1", {"auc": auc}, {})
    return registry


def test_decide_reports_the_event_and_the_champion_move(registry: SqliteModelRegistry) -> None:
    first = decide(registry, GROUP, 1, approve=True, by="alice", reason="ok")
    assert first.champion_before is None and first.champion is not None and first.champion.version == 1
    assert first.champion_changed and first.event is not None and first.event.by == "alice"
    second = decide(registry, GROUP, 2, approve=True, by="bob", reason="better")
    assert second.champion_before.version == 1 and second.champion.version == 2  # type: ignore[union-attr]
    document = second.to_json()
    assert document["champion"]["version"] == 2 and document["champion_before"] == 1
    assert document["event"]["to_status"] == "Approved"


def test_the_hook_gets_the_champion_after_the_change(registry: SqliteModelRegistry) -> None:
    seen: list[tuple[int | None, int]] = []

    def deploy(champion: ModelVersion | None, changed: ModelVersion) -> dict[str, Any]:
        seen.append((champion.version if champion else None, changed.version))
        return {"deployed": champion.version if champion else None}

    decide(registry, GROUP, 1, approve=True, by="alice", reason="ok", on_champion=deploy)
    outcome = decide(registry, GROUP, 1, approve=False, by="bob", reason="drift", on_champion=deploy)
    assert seen == [(1, 1), (None, 1)]
    assert outcome.effects == {"deployed": None}


def test_a_failing_hook_keeps_the_decision_and_reports_the_failure(registry: SqliteModelRegistry) -> None:
    def broken(champion: ModelVersion | None, changed: ModelVersion) -> dict[str, Any]:
        raise LakemlError("endpoint lakeml-staging: model artefact missing")

    outcome = decide(registry, GROUP, 2, approve=True, by="alice", reason="ok", on_champion=broken)
    assert outcome.effects == {"error": "endpoint lakeml-staging: model artefact missing"}
    assert registry.get(GROUP, 2).status == "Approved"


def test_after_status_change_serves_a_change_made_elsewhere(registry: SqliteModelRegistry) -> None:
    changed = registry.approve(GROUP, 2, by="console-user", reason="approved in SageMaker Studio")
    outcome = after_status_change(
        registry,
        changed,
        on_champion=lambda champion, version: {"v": champion.version},  # type: ignore[union-attr]
    )
    assert outcome.champion is not None and outcome.champion.version == 2 and outcome.effects == {"v": 2}


def test_default_approver_is_the_git_email_then_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.email")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "dev@example.com")
    assert default_approver() == "dev@example.com"
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "")
    monkeypatch.setenv("USER", "dev-login")
    assert default_approver() == "dev-login"
