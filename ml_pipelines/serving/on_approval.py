"""Deploy on approval: one handler for the registry's "SageMaker Model Package State Change" event.

On AWS, EventBridge delivers the event when a version's approval status changes; locally
`lakeml models approve` builds the same event and calls the same function. Approved → the version is
deployed to the production endpoint; any other status changes nothing (the previous version keeps
serving). `rollback` redeploys the Approved version before the one now serving.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import Settings

DETAIL_TYPE = "SageMaker Model Package State Change"
PRODUCTION_ENDPOINT = "lakeml-churn"


class StateChange(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    group: str = Field(alias="ModelPackageGroupName")
    version: int = Field(alias="ModelPackageVersion", ge=1)
    status: str = Field(alias="ModelApprovalStatus")
    arn: str | None = Field(None, alias="ModelPackageArn")


def state_change_event(group: str, version: int, status: str, arn: str | None = None) -> dict[str, Any]:
    """The EventBridge event SageMaker emits, as the local approve command builds it."""
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


def champion_hook(settings: Settings, endpoint: str = PRODUCTION_ENDPOINT) -> Any:
    """The `on_champion` hook of `ml_pipelines.approval`: make the endpoint serve the group's champion.

    Nothing is deployed when the champion is already serving, or when no Approved version is left (what
    serves keeps serving). A failed deploy raises, and the previous version keeps serving."""
    from ml_pipelines.steps.deploy import default_deployer

    def hook(champion: Any, changed: Any) -> dict[str, Any]:
        if champion is None:
            return {
                "deployed": None,
                "reason": f"no Approved version of {changed.group}; {endpoint} is unchanged",
            }
        current = serving_version(settings, endpoint)
        if current == (champion.group, champion.version):
            return {
                "deployed": None,
                "reason": f"{champion.group}/{champion.version} already serves on {endpoint}",
            }
        return {"deployed": default_deployer(settings).deploy(champion, endpoint).to_json()}

    return hook


def handle(settings: Settings, event: Any, endpoint: str = PRODUCTION_ENDPOINT) -> dict[str, Any]:
    """React to a state change already made (e.g. in the SageMaker console): serve the champion."""
    from ml_pipelines.approval import after_status_change
    from ml_pipelines.registry import model_registry

    change = parse(event)
    registry = model_registry(settings)
    version = registry.get(change.group, change.version)
    if version.status != change.status:  # a late or replayed event: the registry is the truth
        return {
            "deployed": None,
            "reason": f"event says {change.status} but the registry says {version.status}; ignored",
        }
    outcome = after_status_change(registry, version, on_champion=champion_hook(settings, endpoint))
    if outcome.effects.get("error"):
        raise LakemlError(
            f"deploy after {change.group}/{change.version} became {change.status} failed: "
            f"{outcome.effects['error']}"
        )
    return {**dict(outcome.effects), "champion": outcome.champion.version if outcome.champion else None}


def serving_version(settings: Settings, endpoint: str = PRODUCTION_ENDPOINT) -> tuple[str, int] | None:
    """(group, version) now serving on the endpoint, or None when nothing is deployed."""
    if settings.env == "local":
        from ml_pipelines.serving import endpoint as endpoint_config

        path = endpoint_config.config_path(settings, endpoint)
        if not path.is_file():
            return None
        group, _, number = endpoint_config.read(path).variants[0].version.rpartition("/")
        return group, int(number)
    import boto3

    sm = boto3.client("sagemaker", region_name=settings.aws.region, endpoint_url=settings.aws.endpoint_url)
    try:
        config_name = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except sm.exceptions.ClientError:
        return None
    model = sm.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"][0]["ModelName"]
    package = sm.describe_model(ModelName=model)["Containers"][0]["ModelPackageName"]
    group, number = package.rsplit("/", 2)[-2:]
    return group, int(number)


def rollback(settings: Settings, group: str, endpoint: str = PRODUCTION_ENDPOINT) -> dict[str, Any]:
    from ml_pipelines.registry import model_registry
    from ml_pipelines.steps.deploy import default_deployer

    current = serving_version(settings, endpoint)
    if current is None:
        raise UsageError(
            f"nothing is deployed on {endpoint}; approve a version first (`lakeml models approve`)"
        )
    approved = sorted(
        (
            v
            for v in model_registry(settings).list_versions(group)
            if v.status == "Approved" and v.version < current[1]
        ),
        key=lambda v: v.version,
    )
    if not approved:
        raise LakemlError(
            f"{group}/{current[1]} is serving and no earlier version is Approved; nothing to roll back to"
        )
    result = default_deployer(settings).deploy(approved[-1], endpoint).to_json()
    return {**result, "rolled_back_from": f"{current[0]}/{current[1]}"}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point for the EventBridge rule on model package state changes."""
    from lakeml.core.settings import load_settings

    return handle(load_settings(), event)
