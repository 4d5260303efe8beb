"""The model registry: which trained models exist, which one is approved to serve, and who decided.

One port, two adapters, one switch (`model_registry(settings)`):

- `SqliteModelRegistry` keeps groups, versions and approval events in the local state database, with
  SageMaker's semantics: versions numbered 1.. per group, every version `PendingManualApproval` unless
  registered otherwise, the same allowed status changes, and errors for an unknown group/version.
- `SageMakerModelRegistry` maps the same calls onto model package groups and versioned model packages.

What does not round-trip through SageMaker's API is kept where both sides can read it back the same way:

- **metrics**: SageMaker's `ModelMetrics` only *point* at S3 JSON, so the scalar metrics are stored as
  customer metadata (`lakeml:metric:<name>`); an evaluation report's S3 URI can be given as
  `evaluation_url` and is also set as `ModelMetrics.ModelQuality.Statistics` for the console.
- **who approved**: SageMaker records `LastModifiedBy` as a Studio user profile, usually empty for IAM
  callers, so the approver and time go into customer metadata and the reason into `ApprovalDescription`.
- **history**: SageMaker keeps only the current status, so every change is appended to a JSON log in S3
  (`s3://<lake bucket>/registry/<group>/<version>/approvals.json`). A change made outside lakeml (e.g. in
  the console) still shows up: it is reported from the package's own last-modified fields.

Both adapters validate inputs against SageMaker's limits (group name pattern, metadata characters and
sizes, at most 50 metadata entries), so a registration that works locally also works on AWS.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, cast, get_args

from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import Settings

ApprovalStatus = Literal["PendingManualApproval", "Approved", "Rejected"]
STATUSES: tuple[ApprovalStatus, ...] = get_args(ApprovalStatus)
PENDING: ApprovalStatus = "PendingManualApproval"
APPROVED: ApprovalStatus = "Approved"
REJECTED: ApprovalStatus = "Rejected"

#: The status changes a person can make. SageMaker lets an Approved version be rejected (withdrawn) and a
#: Rejected one be approved later; a version never goes back to Pending, and a change to the status it
#: already has is refused so the history never records a decision that changed nothing.
TRANSITIONS: Mapping[ApprovalStatus, frozenset[ApprovalStatus]] = {
    PENDING: frozenset({APPROVED, REJECTED}),
    APPROVED: frozenset({REJECTED}),
    REJECTED: frozenset({APPROVED}),
}

#: The model package group the churn pipeline registers into unless told otherwise.
DEFAULT_GROUP = "lakeml-churn"

# SageMaker's limits (botocore service model: EntityName, CustomerMetadataKey/Value, ApprovalDescription).
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_METADATA_PUNCTUATION = set("_.:/=+-@")
MAX_METADATA_ENTRIES = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
MAX_REASON_LENGTH = 1024
RESERVED_PREFIX = "lakeml:"
_METRIC_PREFIX = "lakeml:metric:"
_REGISTERED_AS = "lakeml:registered-as"
_STATUS_BY = "lakeml:status-by"
_STATUS_AT = "lakeml:status-at"
_RESERVED_ENTRIES = 3  # registered-as, status-by, status-at
LOCAL_ACCOUNT = "000000000000"


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
        evaluation report, whose scalar metrics are kept (`metrics_from_report`)."""
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


# --------------------------------------------------------------------------------------- validation
def _now() -> datetime:
    return datetime.now(UTC)


def _metadata_safe(text: str) -> bool:
    """SageMaker's CustomerMetadata pattern: letters, digits, whitespace and `_.:/=+-@`."""
    return all(ch.isalnum() or ch.isspace() or ch in _METADATA_PUNCTUATION for ch in text)


def check_group_name(group: str) -> None:
    if not _GROUP_NAME.match(group):
        raise InvalidRegistration(
            f"model package group name {group!r} is not valid on SageMaker; use 1-63 letters, digits and "
            "hyphens, starting with a letter or digit (e.g. 'lakeml-churn')"
        )


def _check_metadata_text(what: str, text: str, limit: int) -> None:
    if not text or len(text) > limit or not _metadata_safe(text):
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
        _check_metadata_text("metric name", name, MAX_KEY_LENGTH - len(_METRIC_PREFIX))
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise InvalidRegistration(
                f"metric {name!r} is {number!r}; metrics are finite numbers (put reports in evaluation_url)"
            )
    entries = len(metadata) + len(metrics) + _RESERVED_ENTRIES
    if entries > MAX_METADATA_ENTRIES:
        raise InvalidRegistration(
            f"{len(metadata)} metadata entries + {len(metrics)} metrics is too many: SageMaker keeps at most "
            f"{MAX_METADATA_ENTRIES - _RESERVED_ENTRIES} per version (lakeml uses {_RESERVED_ENTRIES}); "
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


# --------------------------------------------------------------------------------------- local
_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_groups (
    name TEXT PRIMARY KEY, description TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS model_versions (
    group_name TEXT NOT NULL REFERENCES model_groups(name), version INTEGER NOT NULL,
    status TEXT NOT NULL, model_data_url TEXT NOT NULL, image_uri TEXT NOT NULL,
    metrics TEXT NOT NULL, metadata TEXT NOT NULL, evaluation_url TEXT, description TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (group_name, version));
CREATE TABLE IF NOT EXISTS model_approval_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, group_name TEXT NOT NULL, version INTEGER NOT NULL,
    from_status TEXT NOT NULL, to_status TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL,
    reason TEXT NOT NULL);
"""


class SqliteModelRegistry:
    """Local adapter. Version numbers are assigned and status changes applied inside one IMMEDIATE
    transaction each, so two concurrent registrations never get the same number and two approvers
    never both apply a change from the same status."""

    def __init__(self, path: Path, region: str = "local") -> None:
        self.path = path
        self.region = region
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _arn(self, group: str, version: int) -> str:
        return f"arn:aws:sagemaker:{self.region}:{LOCAL_ACCOUNT}:model-package/{group.lower()}/{version}"

    def create_group(self, group: str, description: str = "") -> None:
        check_group_name(group)
        with self._connect() as db:
            db.execute(
                "INSERT INTO model_groups (name, description, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                (group, description, _now().isoformat()),
            )

    def list_groups(self) -> list[str]:
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT name FROM model_groups ORDER BY name")]

    def _require_group(self, db: sqlite3.Connection, group: str) -> None:
        if db.execute("SELECT 1 FROM model_groups WHERE name = ?", (group,)).fetchone() is None:
            raise unknown_group(
                group, [r[0] for r in db.execute("SELECT name FROM model_groups ORDER BY name")]
            )

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
        _check_status(approval_status)
        metrics = normalise_metrics(metrics)
        check_registration(metrics, metadata)
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            self._require_group(db, group)
            version = db.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE group_name = ?", (group,)
            ).fetchone()[0]
            db.execute(
                "INSERT INTO model_versions (group_name, version, status, model_data_url, image_uri, metrics, "
                "metadata, evaluation_url, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    group,
                    version,
                    approval_status,
                    model_data_url,
                    image_uri,
                    json.dumps({k: float(v) for k, v in metrics.items()}),
                    json.dumps(dict(metadata)),
                    evaluation_url,
                    description,
                    _now().isoformat(),
                ),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return self.get(group, version)

    def _row(self, db: sqlite3.Connection, group: str, version: int) -> ModelVersion:
        self._require_group(db, group)
        row = db.execute(
            "SELECT * FROM model_versions WHERE group_name = ? AND version = ?", (group, version)
        ).fetchone()
        if row is None:
            versions = [
                r[0] for r in db.execute("SELECT version FROM model_versions WHERE group_name = ?", (group,))
            ]
            raise unknown_version(group, version, versions)
        return self._version(db, row)

    def _version(self, db: sqlite3.Connection, row: sqlite3.Row) -> ModelVersion:
        last = db.execute(
            "SELECT by, at, reason FROM model_approval_events WHERE group_name = ? AND version = ? "
            "ORDER BY seq DESC LIMIT 1",
            (row["group_name"], row["version"]),
        ).fetchone()
        return ModelVersion(
            group=row["group_name"],
            version=row["version"],
            arn=self._arn(row["group_name"], row["version"]),
            status=row["status"],
            model_data_url=row["model_data_url"],
            image_uri=row["image_uri"],
            metrics=json.loads(row["metrics"]),
            metadata=json.loads(row["metadata"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            evaluation_url=row["evaluation_url"],
            status_by=last["by"] if last else None,
            status_at=datetime.fromisoformat(last["at"]) if last else None,
            status_reason=last["reason"] if last else None,
            description=row["description"],
        )

    def get(self, group: str, version: int) -> ModelVersion:
        with self._connect() as db:
            return self._row(db, group, version)

    def list_versions(self, group: str) -> list[ModelVersion]:
        with self._connect() as db:
            self._require_group(db, group)
            rows = db.execute("SELECT * FROM model_versions WHERE group_name = ? ORDER BY version", (group,))
            return [self._version(db, row) for row in rows.fetchall()]

    def _decide(self, group: str, version: int, target: ApprovalStatus, by: str, reason: str) -> ModelVersion:
        check_decision(by, reason)
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            current = self._row(db, group, version)
            check_transition(current, target)
            db.execute(
                "UPDATE model_versions SET status = ? WHERE group_name = ? AND version = ?",
                (target, group, version),
            )
            db.execute(
                "INSERT INTO model_approval_events (group_name, version, from_status, to_status, by, at, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (group, version, current.status, target, by, _now().isoformat(), reason),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return self.get(group, version)

    def approve(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion:
        return self._decide(group, version, APPROVED, by, reason)

    def reject(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion:
        return self._decide(group, version, REJECTED, by, reason)

    def champion(self, group: str) -> ModelVersion | None:
        return newest_approved(self.list_versions(group))

    def history(self, group: str, version: int) -> list[ApprovalEvent]:
        with self._connect() as db:
            self._row(db, group, version)
            rows = db.execute(
                "SELECT * FROM model_approval_events WHERE group_name = ? AND version = ? ORDER BY seq",
                (group, version),
            ).fetchall()
        return [
            ApprovalEvent(
                group=r["group_name"],
                version=r["version"],
                from_status=r["from_status"],
                to_status=r["to_status"],
                by=r["by"],
                at=datetime.fromisoformat(r["at"]),
                reason=r["reason"],
            )
            for r in rows
        ]


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise InvalidRegistration(f"approval status {status!r} is not one of {', '.join(STATUSES)}")


# --------------------------------------------------------------------------------------- SageMaker
class SageMakerModelRegistry:
    """AWS adapter over SageMaker model package groups and versioned model packages (boto3).

    `sagemaker` is a boto3 SageMaker client; `s3` and `bucket` hold the approval history log. Status
    changes are checked against the current status read just before the update; SageMaker itself has no
    compare-and-set here, so two people deciding on the same version at the same second both succeed and
    the history shows both."""

    def __init__(self, sagemaker: Any, s3: Any, bucket: str, prefix: str = "registry") -> None:
        self.sm = sagemaker
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    # ---- groups
    def _group_exists(self, group: str) -> bool:
        try:
            self.sm.describe_model_package_group(ModelPackageGroupName=group)
        except self.sm.exceptions.ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def _require_group(self, group: str) -> None:
        check_group_name(group)
        if not self._group_exists(group):
            raise unknown_group(group, self.list_groups())

    def create_group(self, group: str, description: str = "") -> None:
        check_group_name(group)
        if self._group_exists(group):
            return
        try:
            self.sm.create_model_package_group(
                ModelPackageGroupName=group, ModelPackageGroupDescription=description
            )
        except self.sm.exceptions.ClientError as exc:  # created by someone else in between: fine
            if "already exists" not in str(exc):
                raise

    def list_groups(self) -> list[str]:
        pages = self.sm.get_paginator("list_model_package_groups").paginate(SortBy="Name")
        return [g["ModelPackageGroupName"] for page in pages for g in page["ModelPackageGroupSummaryList"]]

    # ---- versions
    def _summaries(self, group: str, status: ApprovalStatus | None = None) -> dict[int, str]:
        """Version number -> package ARN for the group (optionally only one status)."""
        args: dict[str, Any] = {"ModelPackageGroupName": group, "ModelPackageType": "Versioned"}
        if status:
            args["ModelApprovalStatus"] = status
        pages = self.sm.get_paginator("list_model_packages").paginate(**args)
        return {
            int(s["ModelPackageVersion"]): s["ModelPackageArn"]
            for page in pages
            for s in page["ModelPackageSummaryList"]
        }

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
        _check_status(approval_status)
        metrics = normalise_metrics(metrics)
        check_registration(metrics, metadata)
        self._require_group(group)
        properties = {
            **metadata,
            **{_METRIC_PREFIX + name: repr(float(value)) for name, value in metrics.items()},
            _REGISTERED_AS: approval_status,
        }
        args: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": description,
            "InferenceSpecification": {
                "Containers": [{"Image": image_uri, "ModelDataUrl": model_data_url}],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["application/json", "text/csv"],
            },
            "ModelApprovalStatus": approval_status,
            "CustomerMetadataProperties": properties,
        }
        if evaluation_url:
            args["ModelMetrics"] = {
                "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": evaluation_url}}
            }
        arn = self.sm.create_model_package(**args)["ModelPackageArn"]
        return self._from_description(self.sm.describe_model_package(ModelPackageName=arn))

    def _describe(self, group: str, version: int) -> dict[str, Any]:
        self._require_group(group)
        arns = self._summaries(group)
        if version not in arns:
            raise unknown_version(group, version, sorted(arns))
        return cast(dict[str, Any], self.sm.describe_model_package(ModelPackageName=arns[version]))

    def _from_description(self, d: Mapping[str, Any]) -> ModelVersion:
        properties: dict[str, str] = dict(d.get("CustomerMetadataProperties") or {})
        container = (d.get("InferenceSpecification") or {}).get("Containers", [{}])[0]
        statistics = ((d.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
        status_at = properties.get(_STATUS_AT)
        metrics = {
            k.removeprefix(_METRIC_PREFIX): float(v)
            for k, v in properties.items()
            if k.startswith(_METRIC_PREFIX)
        }
        if not metrics and statistics.get("S3Uri"):  # registered by the pipeline: metrics live in the report
            metrics = self._report_metrics(statistics["S3Uri"])
        return ModelVersion(
            group=d["ModelPackageGroupName"],
            version=int(d["ModelPackageVersion"]),
            arn=d["ModelPackageArn"],
            status=d["ModelApprovalStatus"],
            model_data_url=container.get("ModelDataUrl", ""),
            image_uri=container.get("Image", ""),
            metrics=metrics,
            metadata={k: v for k, v in properties.items() if not k.startswith(RESERVED_PREFIX)},
            created_at=_utc(d["CreationTime"]),
            evaluation_url=statistics.get("S3Uri"),
            status_by=properties.get(_STATUS_BY),
            status_at=datetime.fromisoformat(status_at) if status_at else None,
            status_reason=d.get("ApprovalDescription") if status_at else None,
            description=d.get("ModelPackageDescription", ""),
        )

    def _report_metrics(self, uri: str) -> dict[str, float]:
        """Scalar metrics of an evaluation report in S3. An unreadable report gives no metrics rather than
        failing every listing of the group; `lakeml models show` prints its URI."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return metrics_from_report(json.loads(body))
        except (self.s3.exceptions.ClientError, ValueError):
            return {}

    def get(self, group: str, version: int) -> ModelVersion:
        return self._from_description(self._describe(group, version))

    def list_versions(self, group: str) -> list[ModelVersion]:
        self._require_group(group)
        arns = self._summaries(group)
        return [
            self._from_description(self.sm.describe_model_package(ModelPackageName=arns[v]))
            for v in sorted(arns)
        ]

    def champion(self, group: str) -> ModelVersion | None:
        self._require_group(group)
        approved = self._summaries(group, APPROVED)
        if not approved:
            return None
        return self._from_description(
            self.sm.describe_model_package(ModelPackageName=approved[max(approved)])
        )

    # ---- decisions
    def _history_key(self, group: str, version: int) -> str:
        return f"{self.prefix}/{group}/{version}/approvals.json"

    def _logged(self, group: str, version: int) -> list[ApprovalEvent]:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._history_key(group, version))[
                "Body"
            ].read()
        except self.s3.exceptions.NoSuchKey:
            return []
        return [ApprovalEvent.from_json(e) for e in json.loads(body)]

    def _decide(self, group: str, version: int, target: ApprovalStatus, by: str, reason: str) -> ModelVersion:
        check_decision(by, reason)
        described = self._describe(group, version)
        current = self._from_description(described)
        check_transition(current, target)
        earlier = self._history(described)  # before the update, so an outside change is kept as such
        at = _now()
        properties = dict(described.get("CustomerMetadataProperties") or {})
        properties.update({_STATUS_BY: by, _STATUS_AT: at.isoformat()})
        # The whole map is sent: SageMaker merges it, moto replaces it; both end with the same map.
        self.sm.update_model_package(
            ModelPackageArn=current.arn,
            ModelApprovalStatus=target,
            ApprovalDescription=reason,
            CustomerMetadataProperties=properties,
        )
        event = ApprovalEvent(group, version, current.status, target, by, at, reason)
        events = [*earlier, event]
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self._history_key(group, version),
                Body=json.dumps([e.to_json() for e in events], indent=1).encode(),
                ContentType="application/json",
            )
        except self.s3.exceptions.ClientError as exc:
            raise LakemlError(
                f"{group}/{version} is now {target}, but its approval history could not be written to "
                f"s3://{self.bucket}/{self._history_key(group, version)}: {exc}. The package's customer "
                "metadata still records who and when; check the bucket's permissions"
            ) from exc
        return self._from_description(self.sm.describe_model_package(ModelPackageName=current.arn))

    def approve(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion:
        return self._decide(group, version, APPROVED, by, reason)

    def reject(self, group: str, version: int, *, by: str, reason: str) -> ModelVersion:
        return self._decide(group, version, REJECTED, by, reason)

    def history(self, group: str, version: int) -> list[ApprovalEvent]:
        return self._history(self._describe(group, version))

    def _history(self, described: Mapping[str, Any]) -> list[ApprovalEvent]:
        group, version = described["ModelPackageGroupName"], int(described["ModelPackageVersion"])
        events = self._logged(group, version)
        properties = described.get("CustomerMetadataProperties") or {}
        last_known = events[-1].to_status if events else properties.get(_REGISTERED_AS, PENDING)
        status = described["ModelApprovalStatus"]
        if (
            status != last_known
        ):  # changed outside lakeml (console, another tool): report what SageMaker knows
            who = (described.get("LastModifiedBy") or {}).get("UserProfileName") or "unknown (outside lakeml)"
            when = described.get("LastModifiedTime") or described["CreationTime"]
            events.append(
                ApprovalEvent(
                    group,
                    version,
                    last_known,
                    status,
                    who,
                    _utc(when),
                    described.get("ApprovalDescription", ""),
                )
            )
        return events


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_missing(exc: Exception) -> bool:
    text = str(exc)
    return "does not exist" in text or "not found" in text.lower()


# --------------------------------------------------------------------------------------- switch
def model_registry(settings: Settings) -> ModelRegistry:
    """The one switch between the local and the SageMaker registry."""
    if settings.env == "local":
        return SqliteModelRegistry(settings.state_db)
    import boto3

    bucket = settings.aws.lake_bucket or ""
    options = {"region_name": settings.aws.region, "endpoint_url": settings.aws.endpoint_url}
    return SageMakerModelRegistry(boto3.client("sagemaker", **options), boto3.client("s3", **options), bucket)
