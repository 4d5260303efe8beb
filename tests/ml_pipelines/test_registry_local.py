"""Local registry under concurrency: the claims its docstring makes about IMMEDIATE transactions."""

from __future__ import annotations

import threading
from pathlib import Path

from ml_pipelines.registry import InvalidTransition
from ml_pipelines.registry.sqlite import SqliteModelRegistry

GROUP = "lakeml-churn"


def test_concurrent_registrations_get_distinct_consecutive_versions(tmp_path: Path) -> None:
    SqliteModelRegistry(tmp_path / "state.db").create_group(GROUP)
    versions: list[int] = []

    def register() -> None:
        registry = SqliteModelRegistry(tmp_path / "state.db")  # own connection per thread, like two processes
        versions.append(registry.register(GROUP, "s3://b/m.tar.gz", "img:1", {}, {}).version)

    threads = [threading.Thread(target=register) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == list(range(1, 9))


def test_two_approvers_of_the_same_version_one_wins_one_is_told(tmp_path: Path) -> None:
    registry = SqliteModelRegistry(tmp_path / "state.db")
    registry.create_group(GROUP)
    registry.register(GROUP, "s3://b/m.tar.gz", "img:1", {}, {})
    outcomes: dict[str, str] = {}

    def approve(who: str) -> None:
        try:
            SqliteModelRegistry(tmp_path / "state.db").approve(GROUP, 1, by=who, reason="ok")
            outcomes[who] = "approved"
        except InvalidTransition:
            outcomes[who] = "refused"

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["approved", "refused"]
    assert len(registry.history(GROUP, 1)) == 1
