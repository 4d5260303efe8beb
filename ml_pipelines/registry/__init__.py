"""The model registry: which trained models exist, which one is approved to serve, and who decided.

- `port`: the `ModelRegistry` Protocol, its value types (`ModelVersion`, `ApprovalEvent`) and errors;
- `rules`: the approval state machine and SageMaker's limits, checked by both adapters;
- `sqlite`: the local adapter (the local state database);
- `sagemaker`: the AWS adapter (model package groups, approval history in the lake bucket).

`lakeml.wiring` builds the adapter; everything else takes a `ModelRegistry`. This package re-exports the
port and the rules so callers need not know which module holds what; the adapters are imported from
their own modules (only the wiring and tests need them).
"""

from ml_pipelines.registry.port import (
    APPROVED,
    DEFAULT_GROUP,
    PENDING,
    REJECTED,
    STATUSES,
    ApprovalEvent,
    ApprovalStatus,
    InvalidRegistration,
    InvalidTransition,
    ModelRegistry,
    ModelVersion,
    UnknownModelGroup,
    UnknownModelVersion,
)
from ml_pipelines.registry.rules import (
    TRANSITIONS,
    approved_before,
    metrics_from_report,
    newest_approved,
    normalise_metrics,
)

__all__ = [
    "APPROVED",
    "DEFAULT_GROUP",
    "PENDING",
    "REJECTED",
    "STATUSES",
    "TRANSITIONS",
    "ApprovalEvent",
    "ApprovalStatus",
    "InvalidRegistration",
    "InvalidTransition",
    "ModelRegistry",
    "ModelVersion",
    "UnknownModelGroup",
    "UnknownModelVersion",
    "approved_before",
    "metrics_from_report",
    "newest_approved",
    "normalise_metrics",
]
