"""Deploy on approval: what follows a registry status change for the endpoint, and rollback.

On AWS, EventBridge delivers SageMaker's "Model Package State Change" event when a version's approval
status changes, and the Lambda (`lakeml.handlers.on_approval`) calls `handle()`; locally
`lakeml models approve` makes the decision and runs the same `champion_hook`. Either way the endpoint ends
up serving the group's champion (the newest Approved version); a status change that leaves the champion
as it is changes nothing, and when no Approved version is left what serves keeps serving. `rollback`
redeploys the Approved version before the one now serving. Everything here takes ports (a
`ModelRegistry`, a `Deployer`); the wiring chooses them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lakeml.core.errors import LakemlError, UsageError
from ml_pipelines.approval import ChampionHook, after_status_change
from ml_pipelines.registry import APPROVED, ModelRegistry, ModelVersion, approved_before
from ml_pipelines.serving.deploy.port import PRODUCTION_ENDPOINT, Deployer

DETAIL_TYPE = "SageMaker Model Package State Change"

__all__ = [
    "DETAIL_TYPE",
    "PRODUCTION_ENDPOINT",
    "StateChange",
    "champion_hook",
    "handle",
    "on_approved",
    "parse",
    "rollback",
    "state_change_event",
]


class StateChange(BaseModel):
    """The `detail` of SageMaker's event (the model package as DescribeModelPackage shows it). The
    version is `ModelPackageVersion`, or the last part of `ModelPackageArn` / `ModelPackageName`
    (`group/4`) where an event carries only those."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    group: str = Field(alias="ModelPackageGroupName")
    version: int = Field(alias="ModelPackageVersion", ge=1)
    status: str = Field(alias="ModelApprovalStatus")
    arn: str | None = Field(None, alias="ModelPackageArn")

    @model_validator(mode="before")
    @classmethod
    def _version_from_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("ModelPackageVersion") is None:
            for key in ("ModelPackageArn", "ModelPackageName"):
                tail = str(data.get(key) or "").rsplit("/", 1)[-1]
                if tail.isdigit():
                    return {**data, "ModelPackageVersion": int(tail)}
        return data


def state_change_event(group: str, version: int, status: str, arn: str | None = None) -> dict[str, Any]:
    """The EventBridge event SageMaker emits (tests and local tools build it with this)."""
    return {
        "version": "0",
        "source": "aws.sagemaker",
        "detail-type": DETAIL_TYPE,
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelApprovalStatus": status,
            "ModelPackageArn": arn,
        },
    }


def parse(event: Any) -> StateChange:
    if not isinstance(event, dict) or event.get("detail-type") != DETAIL_TYPE:
        got = event.get("detail-type") if isinstance(event, dict) else type(event).__name__
        raise UsageError(f"expected an EventBridge '{DETAIL_TYPE}' event, got {got!r}")
    try:
        return StateChange.model_validate(event.get("detail") or {})
    except ValidationError as exc:
        problems = "; ".join(f"detail.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid model package state change event: {problems}") from None


def champion_hook(deployer: Deployer, endpoint: str = PRODUCTION_ENDPOINT) -> ChampionHook:
    """The `on_champion` hook of `ml_pipelines.approval`: make the endpoint serve the group's champion.

    Nothing is deployed when the champion is already serving, or when no Approved version is left (what
    serves keeps serving). A failed deploy raises, and the previous version keeps serving."""

    def hook(champion: ModelVersion | None, changed: ModelVersion) -> dict[str, Any]:
        if champion is None:
            return {
                "deployed": None,
                "reason": f"no Approved version of {changed.group}; {endpoint} is unchanged",
            }
        if deployer.serving(endpoint) == (champion.group, champion.version):
            return {
                "deployed": None,
                "reason": f"{champion.group}/{champion.version} already serves on {endpoint}",
            }
        return {"deployed": deployer.deploy(champion, endpoint).to_json()}

    return hook


def handle(
    registry: ModelRegistry, deployer: Deployer, event: Any, endpoint: str = PRODUCTION_ENDPOINT
) -> dict[str, Any]:
    """React to a state change already made (e.g. in the SageMaker console): serve the champion."""
    change = parse(event)
    version = registry.get(change.group, change.version)
    if version.status != change.status:  # a late or replayed event: the registry is the truth
        return {
            "deployed": None,
            "reason": f"event says {change.status} but the registry says {version.status}; ignored",
        }
    outcome = after_status_change(registry, version, on_champion=champion_hook(deployer, endpoint))
    if outcome.effects.get("error"):
        raise LakemlError(
            f"deploy after {change.group}/{change.version} became {change.status} failed: "
            f"{outcome.effects['error']}"
        )
    return {**dict(outcome.effects), "champion": outcome.champion.version if outcome.champion else None}


def on_approved(
    registry: ModelRegistry, deployer: Deployer, event: Any, endpoint: str = PRODUCTION_ENDPOINT
) -> dict[str, Any]:
    """What the on-approval Lambda runs: the EventBridge rule sends Approved changes only, and anything
    else is acknowledged without touching the endpoint. Idempotent: a second delivery of the same event
    (SageMaker may send several per change) finds the champion already serving (or being deployed) and
    says so; nothing is deployed twice. See docs/decisions.md, "on-approval idempotency"."""
    change = parse(event)
    if change.status != APPROVED:
        return {
            "deployed": None,
            "reason": f"{change.group}/{change.version} became {change.status}; only Approved versions "
            "are deployed by this function",
        }
    return handle(registry, deployer, event, endpoint)


def rollback(
    registry: ModelRegistry, deployer: Deployer, group: str, endpoint: str = PRODUCTION_ENDPOINT
) -> dict[str, Any]:
    """Serve the Approved version before the one serving now; the registry is unchanged."""
    current = deployer.serving(endpoint)
    if current is None:
        raise UsageError(
            f"nothing is deployed on {endpoint}; approve a version first (`lakeml models approve`)"
        )
    previous = approved_before(registry.list_versions(group), current[1])
    if previous is None:
        raise LakemlError(
            f"{group}/{current[1]} is serving and no earlier version is Approved; nothing to roll back to"
        )
    result = deployer.deploy(previous, endpoint).to_json()
    return {**result, "rolled_back_from": f"{current[0]}/{current[1]}"}
