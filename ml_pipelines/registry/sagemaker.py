"""AWS adapter of the model registry: SageMaker model package groups and versioned model packages.

What does not round-trip through SageMaker's API is kept where both sides can read it back the same way:

- **metrics**: SageMaker's `ModelMetrics` only *point* at S3 JSON, so the scalar metrics are stored as
  customer metadata (`lakeml:metric:<name>`); an evaluation report's S3 URI can be given as
  `evaluation_url` and is also set as `ModelMetrics.ModelQuality.Statistics` for the console. A package
  the pipeline registered itself (metrics only as that pointer) gets its metrics from the report.
- **who approved**: SageMaker records `LastModifiedBy` as a Studio user profile, usually empty for IAM
  callers, so the approver and time go into customer metadata and the reason into `ApprovalDescription`.
- **history**: SageMaker keeps only the current status, so every change is appended to a JSON log in the
  lake bucket (`s3://<lake bucket>/registry/<group>/<version>/approvals.json`). A change made outside
  lakeml (e.g. in the console) still shows up: it is reported from the package's own last-modified fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from lakeml.core.errors import LakemlError
from ml_pipelines.registry.port import (
    APPROVED,
    PENDING,
    REJECTED,
    ApprovalEvent,
    ApprovalStatus,
    ModelVersion,
)
from ml_pipelines.registry.rules import (
    METRIC_PREFIX,
    REGISTERED_AS,
    RESERVED_PREFIX,
    STATUS_AT,
    STATUS_BY,
    check_decision,
    check_group_name,
    check_registration,
    check_status,
    check_transition,
    metrics_from_report,
    normalise_metrics,
    now,
    unknown_group,
    unknown_version,
)


class SageMakerModelRegistry:
    """The registry in SageMaker (see the module doc).

    `sagemaker` and `s3` are clients from `lakeml.core.aws.client`; `bucket` (the lake's) holds the
    approval history log under `prefix`. Status
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
        check_status(approval_status)
        metrics = normalise_metrics(metrics)
        check_registration(metrics, metadata)
        self._require_group(group)
        properties = {
            **metadata,
            **{METRIC_PREFIX + name: repr(float(value)) for name, value in metrics.items()},
            REGISTERED_AS: approval_status,
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
        status_at = properties.get(STATUS_AT)
        metrics = {
            k.removeprefix(METRIC_PREFIX): float(v)
            for k, v in properties.items()
            if k.startswith(METRIC_PREFIX)
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
            status_by=properties.get(STATUS_BY),
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
        at = now()
        properties = dict(described.get("CustomerMetadataProperties") or {})
        properties.update({STATUS_BY: by, STATUS_AT: at.isoformat()})
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
        last_known = events[-1].to_status if events else properties.get(REGISTERED_AS, PENDING)
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
