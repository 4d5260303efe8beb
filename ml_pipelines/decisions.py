"""Approve or reject a model version *and* do what follows — the one code path every front end calls.

`lakeml models approve|reject` and the studio's approval form both call `decide_and_deploy()`, so a
decision made in the browser and one made on the command line leave the same registry state and the
same deployment. It resolves the version (a number or `champion`), records the decision through
`ml_pipelines.approval.decide`, and — where the estate does not deploy on approval by itself (locally) —
runs the champion hook so the endpoint serves the group's champion at once. On AWS the EventBridge rule
on the package's state change runs the same hook in the on-approval Lambda.
"""

from __future__ import annotations

from typing import Protocol

from lakeml.core.errors import UsageError
from ml_pipelines.approval import StatusChange, decide
from ml_pipelines.registry import ModelRegistry
from ml_pipelines.serving.deploy import Deployer


class DecisionPorts(Protocol):
    """The ports a decision needs (the wiring's adapters object has them)."""

    @property
    def registry(self) -> ModelRegistry: ...

    @property
    def deployer(self) -> Deployer: ...


def resolve_version(registry: ModelRegistry, group: str, version: str | int) -> int:
    """A version number from `3`, `"3"` or `"champion"` (the newest Approved version)."""
    if isinstance(version, int):
        return version
    if version.isdigit():
        return int(version)
    if version == "champion":
        champion = registry.champion(group)
        if champion is None:
            raise UsageError(
                f"{group} has no Approved version yet; list versions with `lakeml models list --group {group}` "
                "and approve one with `lakeml models approve VERSION --reason …`"
            )
        return champion.version
    raise UsageError(f"version {version!r} is not a number or 'champion'; e.g. `lakeml models show 3`")


def decide_and_deploy(
    ports: DecisionPorts, group: str, version: str | int, *, approve: bool, by: str, reason: str
) -> StatusChange:
    """Record `by`'s decision on `group/version` for `reason`, then make the endpoint follow the champion
    (locally; on AWS the approval event does). A failed deploy keeps the decision: `effects["error"]`."""
    registry = ports.registry
    number = resolve_version(registry, group, version)
    hook = None
    if not ports.deployer.deploys_on_approval:
        from ml_pipelines.serving.on_approval import champion_hook

        hook = champion_hook(ports.deployer)
    return decide(registry, group, number, approve=approve, by=by, reason=reason, on_champion=hook)
