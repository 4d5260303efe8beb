"""The deployer port: put a registered model version behind an endpoint, and say what an endpoint serves.

Two adapters: `local.LocalDeployer` (the local server's endpoint config, which the running server
watches) and `sagemaker.SageMakerDeployer` (a SageMaker endpoint updated blue/green). Either way a deploy
that fails leaves the previous version serving (`DeployFailed` says so), and `serving()` reports what
actually serves, which is how `rollback` and the approval hook decide what to do; `variants()` shows how
the traffic is split (the studio's Endpoint page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lakeml.core.errors import LakemlError

#: The endpoint that serves the group's champion (what approval deploys to, and `lakeml serve` serves).
PRODUCTION_ENDPOINT = "lakeml-churn"


class VersionLike(Protocol):
    """What a deployer needs of a registered version (`ml_pipelines.registry.ModelVersion` has it)."""

    @property
    def group(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def arn(self) -> str: ...
    @property
    def model_data_url(self) -> str: ...
    @property
    def image_uri(self) -> str: ...


class DeployFailed(LakemlError):
    """A deploy that did not happen; the version that served before still serves."""


@dataclass(frozen=True)
class DeployResult:
    endpoint: str
    version: str  # "<group>/<n>"
    action: str  # created | updated
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "version": self.version, "action": self.action, **self.detail}


@dataclass(frozen=True)
class EndpointVariant:
    """One production variant of an endpoint as it runs now."""

    name: str
    version: str | None  # "<group>/<n>" of the model it serves; None when the model is no registered version
    weight: float  # its current weight; its share of the traffic is weight / the sum of the weights
    instances: int | None = None  # current instance count (None locally: the one `lakeml serve` process)
    status: str | None = None  # SageMaker's: InService, or the variant's Creating/Updating/…; None locally

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "weight": self.weight,
            "instances": self.instances,
            "status": self.status,
        }


class Deployer(Protocol):
    """Puts registered model versions behind endpoints."""

    @property
    def deploys_on_approval(self) -> bool:
        """True when the estate deploys the champion by itself when a registry status changes (on AWS an
        EventBridge rule runs the on-approval Lambda); False when whoever decides must run the approval
        hook (locally, `lakeml models approve` does)."""
        ...

    def deploy(self, version: VersionLike, endpoint: str) -> DeployResult:
        """Make `endpoint` serve `version` (create the endpoint if it does not exist). Raises DeployFailed
        when the version cannot be deployed; the previous version then keeps serving."""
        ...

    def serving(self, endpoint: str) -> tuple[str, int] | None:
        """(group, version) serving on `endpoint` now, or None when nothing is deployed there."""
        ...

    def endpoint_config(self, endpoint: str) -> str | None:
        """The config behind the version `serving` reports (SageMaker: its EndpointConfigName, the
        pending one during an update; locally: the config file), as `deploy` reported it, or None when
        nothing is deployed there. `lakeml lineage` names it."""
        ...

    def variants(self, endpoint: str) -> list[EndpointVariant]:
        """The endpoint's production variants as they run now (SageMaker: the live fleet, not a pending
        blue/green one), in the config's order; [] when nothing is deployed there."""
        ...


def version_label(version: VersionLike) -> str:
    return f"{version.group}/{version.version}"


def deploy_failed(version: VersionLike, endpoint: str, why: object) -> DeployFailed:
    return DeployFailed(
        f"deploy of {version_label(version)} to {endpoint} failed, the previous version keeps serving: {why}"
    )


def parse_label(label: str) -> tuple[str, int]:
    """("group", n) of "group/n" or of a model package ARN (…:model-package/group/n)."""
    group, number = label.rsplit("/", 2)[-2:]
    return group, int(number)
