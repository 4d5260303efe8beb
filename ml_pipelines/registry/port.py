"""The model registry port: which trained models exist, which one is approved to serve, and who decided.

`ModelRegistry` is the Protocol both adapters implement (`sqlite.SqliteModelRegistry` locally,
`sagemaker.SageMakerModelRegistry` on AWS) with SageMaker's semantics: versions numbered 1.. per group,
every version `PendingManualApproval` unless registered otherwise, the status changes `rules.TRANSITIONS`
allows, and the errors below for an unknown group or version. The value types (`ModelVersion`,
`ApprovalEvent`) and the errors live here too, so a caller needs this module and no adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from lakeml.core.errors import UsageError

ApprovalStatus = Literal["PendingManualApproval", "Approved", "Rejected"]
STATUSES: tuple[ApprovalStatus, ...] = get_args(ApprovalStatus)
PENDING: ApprovalStatus = "PendingManualApproval"
APPROVED: ApprovalStatus = "Approved"
REJECTED: ApprovalStatus = "Rejected"

#: The model package group the churn pipeline registers into unless told otherwise.
DEFAULT_GROUP = "lakeml-churn"


class UnknownModelGroup(UsageError):
    """The model package group does not exist (SageMaker: ValidationException "... does not exist")."""


class UnknownModelVersion(UsageError):
    """The group exists but has no such version (SageMaker: ValidationException "... not found")."""


class InvalidTransition(UsageError):
    """The status change is not allowed from the version's current status."""


class InvalidRegistration(UsageError):
    """Metrics, metadata, names or reasons SageMaker would refuse."""


@dataclass(frozen=True)
class ApprovalEvent:
    """One status change of one version: who moved it from what to what, when, and why."""

    group: str
    version: int
    from_status: ApprovalStatus
    to_status: ApprovalStatus
    by: str
    at: datetime
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "version": self.version,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "by": self.by,
            "at": self.at.isoformat(),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApprovalEvent:
        return cls(
            group=data["group"],
            version=int(data["version"]),
            from_status=data["from_status"],
            to_status=data["to_status"],
            by=data["by"],
            at=datetime.fromisoformat(data["at"]),
            reason=data["reason"],
        )


@dataclass(frozen=True)
class ModelVersion:
    """One registered model: where its artifact and image are, how it scored, and its approval state.

    `status_by`/`status_at`/`status_reason` describe the latest status change (None while it was never
    changed after registration)."""

    group: str
    version: int
    arn: str
    status: ApprovalStatus
    model_data_url: str
    image_uri: str
    metrics: Mapping[str, float]
    metadata: Mapping[str, str]
    created_at: datetime
    evaluation_url: str | None = None
    status_by: str | None = None
    status_at: datetime | None = None
    status_reason: str | None = None
    description: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return f"{self.group}/{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "version": self.version,
            "arn": self.arn,
            "status": self.status,
            "model_data_url": self.model_data_url,
            "image_uri": self.image_uri,
            "metrics": dict(self.metrics),
            "metadata": dict(self.metadata),
            "created_at": self.created_at.isoformat(),
            "evaluation_url": self.evaluation_url,
            "status_by": self.status_by,
            "status_at": self.status_at.isoformat() if self.status_at else None,
            "status_reason": self.status_reason,
        }


class ModelRegistry(Protocol):
    """Where trained models are registered and approved. Registration is Pending unless told otherwise;
    only an Approved version can be the champion, and the champion is the newest Approved version."""

    def create_group(self, group: str, description: str = "") -> None:
        """Create the group if it does not exist (idempotent)."""
        ...

    def list_groups(self) -> list[str]: ...

    def register(
        self,
        group: str,
        model_data_url: str,
        image_uri: str,
        metrics: Mapping[str, Any],
        metadata: Mapping[str, str],
        approval_status: ApprovalStatus = PENDING,
        *,
        evaluation_url: str | None = None,
        description: str = "",
    ) -> ModelVersion:
        """Add the next version (1, 2, …) to an existing group. `metrics` is flat (name -> number) or an
        evaluation report, whose scalar metrics are kept (`rules.metrics_from_report`)."""
        ...

    def get(self, group: str, version: int) -> ModelVersion: ...

    def list_versions(self, group: str) -> list[ModelVersion]:
        """Every version of the group, oldest first."""
        ...

    def approve(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion: ...

    def reject(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion: ...

    def champion(self, group: str) -> ModelVersion | None:
        """The newest Approved version, or None when no version is Approved."""
        ...

    def history(self, group: str, version: int) -> list[ApprovalEvent]:
        """Status changes of the version, oldest first."""
        ...
