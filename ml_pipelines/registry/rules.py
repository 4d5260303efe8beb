"""The registry's rules, shared by both adapters: the approval state machine and SageMaker's limits.

Both adapters check a registration or decision here *before* writing anything, so what works locally
also works on AWS (group name pattern, customer metadata characters and sizes, at most 50 metadata
entries, a reason for every decision), and both build their "unknown group/version" errors here, so
the message a user sees does not depend on where the registry lives.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ml_pipelines.registry.port import (
    APPROVED,
    PENDING,
    REJECTED,
    STATUSES,
    ApprovalStatus,
    InvalidRegistration,
    InvalidTransition,
    ModelVersion,
    UnknownModelGroup,
    UnknownModelVersion,
)

#: The status changes a person can make. SageMaker lets an Approved version be rejected (withdrawn) and a
#: Rejected one be approved later; a version never goes back to Pending, and a change to the status it
#: already has is refused so the history never records a decision that changed nothing.
TRANSITIONS: Mapping[ApprovalStatus, frozenset[ApprovalStatus]] = {
    PENDING: frozenset({APPROVED, REJECTED}),
    APPROVED: frozenset({REJECTED}),
    REJECTED: frozenset({APPROVED}),
}

# SageMaker's limits (botocore service model: EntityName, CustomerMetadataKey/Value, ApprovalDescription).
GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
METADATA_PUNCTUATION = frozenset("_.:/=+-@")
MAX_METADATA_ENTRIES = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
MAX_REASON_LENGTH = 1024

# Customer metadata keys lakeml writes itself (the SageMaker adapter; counted against the limit on both).
RESERVED_PREFIX = "lakeml:"
METRIC_PREFIX = "lakeml:metric:"
REGISTERED_AS = "lakeml:registered-as"
STATUS_BY = "lakeml:status-by"
STATUS_AT = "lakeml:status-at"
RESERVED_ENTRIES = 3  # registered-as, status-by, status-at
LOCAL_ACCOUNT = "000000000000"


def now() -> datetime:
    return datetime.now(UTC)


def metadata_safe(text: str) -> bool:
    """SageMaker's CustomerMetadata pattern: letters, digits, whitespace and `_.:/=+-@`."""
    return all(ch.isalnum() or ch.isspace() or ch in METADATA_PUNCTUATION for ch in text)


def check_group_name(group: str) -> None:
    if not GROUP_NAME.match(group):
        raise InvalidRegistration(
            f"model package group name {group!r} is not valid on SageMaker; use 1-63 letters, digits and "
            "hyphens, starting with a letter or digit (e.g. 'lakeml-churn')"
        )


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise InvalidRegistration(f"approval status {status!r} is not one of {', '.join(STATUSES)}")


def _check_metadata_text(what: str, text: str, limit: int) -> None:
    if not text or len(text) > limit or not metadata_safe(text):
        raise InvalidRegistration(
            f"{what} {text!r} cannot be stored as SageMaker customer metadata: use 1-{limit} characters "
            "from letters, digits, spaces and _ . : / = + - @"
        )


def check_registration(metrics: Mapping[str, float], metadata: Mapping[str, str]) -> None:
    """Refuse what SageMaker would refuse, on both adapters, before anything is written."""
    for key, value in metadata.items():
        if key.startswith(RESERVED_PREFIX):
            raise InvalidRegistration(
                f"metadata key {key!r} starts with {RESERVED_PREFIX!r}, which lakeml reserves; rename it"
            )
        _check_metadata_text("metadata key", key, MAX_KEY_LENGTH)
        _check_metadata_text(f"metadata value of {key!r}:", value, MAX_VALUE_LENGTH)
    for name, number in metrics.items():
        _check_metadata_text("metric name", name, MAX_KEY_LENGTH - len(METRIC_PREFIX))
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise InvalidRegistration(
                f"metric {name!r} is {number!r}; metrics are finite numbers (put reports in evaluation_url)"
            )
    entries = len(metadata) + len(metrics) + RESERVED_ENTRIES
    if entries > MAX_METADATA_ENTRIES:
        raise InvalidRegistration(
            f"{len(metadata)} metadata entries + {len(metrics)} metrics is too many: SageMaker keeps at most "
            f"{MAX_METADATA_ENTRIES - RESERVED_ENTRIES} per version (lakeml uses {RESERVED_ENTRIES}); "
            "put the rest in the evaluation report"
        )


def check_decision(by: str, reason: str) -> None:
    _check_metadata_text("approver", by, MAX_VALUE_LENGTH)
    if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        raise InvalidRegistration(
            f"an approval decision needs a reason of 1-{MAX_REASON_LENGTH} characters (got {len(reason)}); "
            "say why, e.g. --reason 'AUC 0.84 beats champion 0.82 on the same test set'"
        )


def check_transition(current: ModelVersion, target: ApprovalStatus) -> None:
    if target in TRANSITIONS[current.status]:
        return
    if current.status == target:
        other = "reject" if target == APPROVED else "approve"
        raise InvalidTransition(
            f"{current.group} version {current.version} is already {target}; nothing changed. "
            f"To reverse the decision, {other} it instead (`lakeml models {other} {current.version} "
            f"--group {current.group} --reason …`)"
        )
    raise InvalidTransition(  # pragma: no cover - only reachable if TRANSITIONS loses an edge
        f"{current.group} version {current.version} cannot go from {current.status} to {target}"
    )


def unknown_group(group: str, known: list[str]) -> UnknownModelGroup:
    listed = ", ".join(known) if known else "none yet (the pipeline's register step creates one)"
    return UnknownModelGroup(
        f"model package group {group!r} does not exist; groups: {listed}. List them with `lakeml models list`"
    )


def unknown_version(group: str, version: int, versions: list[int]) -> UnknownModelVersion:
    have = f"versions 1-{max(versions)}" if versions else "no versions yet"
    return UnknownModelVersion(
        f"model package {group}/{version} does not exist ({group} has {have}); "
        f"list them with `lakeml models list --group {group}`"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def metrics_from_report(report: Mapping[str, Any]) -> dict[str, float]:
    """The scalar metrics of an evaluation report (the pipeline's `evaluation.json`, or SageMaker's model
    quality JSON): its `metrics` section if it has one, else the whole document; a number is a metric, a
    `{"value": number}` object is one (SageMaker's convention), nested sections give dotted names; lists,
    text, booleans and nulls (e.g. a missing champion) are left out."""
    section = report.get("metrics")
    root: Mapping[str, Any] = section if isinstance(section, Mapping) else report
    out: dict[str, float] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping) and _is_number(value.get("value")):
                value = value["value"]
            if _is_number(value):
                if math.isfinite(value):
                    out[name] = float(value)
            elif isinstance(value, Mapping):
                walk(value, f"{name}.")

    walk(root, "")
    return out


def normalise_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Flat name -> number metrics as given; anything else is taken as a report (`metrics_from_report`),
    so the local runner and SageMaker's RegisterModel step (which only points at `evaluation.json`) end
    with the same metrics."""
    if all(_is_number(v) for v in metrics.values()):
        return dict(metrics)
    return metrics_from_report(metrics)


def newest_approved(versions: list[ModelVersion]) -> ModelVersion | None:
    approved = [v for v in versions if v.status == APPROVED]
    return max(approved, key=lambda v: v.version) if approved else None


def approved_before(versions: list[ModelVersion], version: int) -> ModelVersion | None:
    """The newest Approved version older than `version` (what a rollback returns to), or None."""
    return newest_approved([v for v in versions if v.version < version])
