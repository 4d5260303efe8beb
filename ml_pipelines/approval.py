"""A person's decision on a model version, and what follows from it — in one place.

Two entry points call this module, so approving behaves the same however it is done:

- `lakeml models approve|reject` (and anything else that *makes* a decision) calls `decide()`, which
  changes the status in the registry and then runs `after_status_change()`;
- on AWS, an approval made in the SageMaker console reaches an EventBridge rule ("SageMaker Model Package
  State Change"); its handler calls `after_status_change()` directly, since the status already changed.

`after_status_change()` works out the group's champion (the newest Approved version) after the change and
hands it to the caller's `on_champion` hook — the serving side passes one that deploys the champion to the
endpoint (or, when no Approved version is left, keeps what serves). A hook that fails does not undo the
decision: the decision is the record of what a person decided, the hook's failure is reported beside it.
"""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lakeml.core import environ
from lakeml.core.errors import LakemlError
from ml_pipelines.registry import ApprovalEvent, ModelRegistry, ModelVersion

#: Called with (champion after the change or None, the version whose status changed); returns facts
#: about what it did (e.g. the deployment) for the report.
ChampionHook = Callable[[ModelVersion | None, ModelVersion], Mapping[str, Any] | None]


@dataclass(frozen=True)
class StatusChange:
    """The outcome of a status change: the version as it is now, the group's champion, the hook's facts."""

    version: ModelVersion
    champion: ModelVersion | None
    event: ApprovalEvent | None = None
    champion_before: ModelVersion | None = None
    effects: Mapping[str, Any] = field(default_factory=dict)

    @property
    def champion_changed(self) -> bool:
        before = self.champion_before.version if self.champion_before else None
        return before != (self.champion.version if self.champion else None)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version.to_json(),
            "event": self.event.to_json() if self.event else None,
            "champion": self.champion.to_json() if self.champion else None,
            "champion_before": self.champion_before.version if self.champion_before else None,
            "champion_changed": self.champion_changed,
            "effects": dict(self.effects),
        }


def default_approver() -> str:
    """Who is deciding when `--by` is not given: the git user's email, else the login name."""
    try:
        email = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        email = ""
    if email:
        return email
    return environ.platform("USER") or environ.platform("USERNAME") or getpass.getuser()


def decide(
    registry: ModelRegistry,
    group: str,
    version: int,
    *,
    approve: bool,
    by: str,
    reason: str,
    on_champion: ChampionHook | None = None,
) -> StatusChange:
    """Approve or reject `group/version` as `by` for `reason`, then run `after_status_change()`."""
    before = registry.champion(group)
    changed = (
        registry.approve(group, version, by=by, reason=reason)
        if approve
        else registry.reject(group, version, by=by, reason=reason)
    )
    event = registry.history(group, version)[-1]
    outcome = after_status_change(registry, changed, on_champion=on_champion)
    return StatusChange(changed, outcome.champion, event, before, outcome.effects)


def after_status_change(
    registry: ModelRegistry, version: ModelVersion, *, on_champion: ChampionHook | None = None
) -> StatusChange:
    """What follows a status change of `version`, however it was made: find the champion, run the hook."""
    champion = registry.champion(version.group)
    effects: dict[str, Any] = {}
    if on_champion is not None:
        try:
            effects = dict(on_champion(champion, version) or {})
        except LakemlError as exc:
            effects = {"error": str(exc)}
    return StatusChange(version, champion, effects=effects)
