"""The few APIs hashicorp/aws 5.100.0 calls that moto 5.2.5 lacks, added to moto's in-process server.

Each shim is the smallest answer the real API gives for the estate's resources, installed with a
`pytest.MonkeyPatch` for the lifetime of the estate (undone afterwards, so no other test sees them).
Nothing here changes what Terraform asks for: without a shim the apply, re-plan or destroy fails on
moto's "not implemented", or the provider sees a drift AWS would never report. docs/infra.md
("Emulator check") lists them and what they mean for the check.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from moto.cloudwatch.models import CloudWatchBackend
from moto.core.responses import ActionResult
from moto.core.utils import unix_time_millis
from moto.ecs.models import EC2ContainerServiceBackend
from moto.logs.responses import LogsResponse
from moto.moto_api._internal import mock_random
from moto.s3.models import FakeDeleteMarker
from moto.sagemaker.models import FeatureGroup, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.responses import StepFunctionResponse

MOTO_VERSION = "5.2.5"
ORIGINAL_CREATE_FEATURE_GROUP = SageMakerResponse.create_feature_group


def validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
    """Step Functions `ValidateStateMachineDefinition` (missing in moto 5.2.5).

    The provider validates `aws_sfn_state_machine.definition` before create and update. Answered with
    moto's own ASL parser (the engine that later executes the definition): OK when it parses, FAIL with
    the parser's message otherwise -- not AWS's linter, whose warnings moto cannot reproduce."""
    definition = self._get_param("definition")
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:  # the parser's own error is the diagnostic
        diagnostic = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": str(exc)}
        return ActionResult({"result": "FAIL", "diagnostics": [diagnostic], "truncated": False})
    return ActionResult({"result": "OK", "diagnostics": [], "truncated": False})


def list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    """Step Functions `ListStateMachineVersions` (missing in moto 5.2.5).

    The provider reads the versions of `aws_sfn_state_machine` after every create/read (for
    `publish`/`state_machine_version_arn`). Answered from moto's own record of published versions,
    newest first, as AWS orders them."""
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(getattr(machine, "versions", {}).items(), reverse=True)
    listed = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for _, v in versions]
    return ActionResult({"stateMachineVersions": listed})


def delete_model_package_group(self: SageMakerResponse) -> ActionResult:
    """SageMaker `DeleteModelPackageGroup` (missing in moto 5.2.5).

    `terraform destroy` of `aws_sagemaker_model_package_group`. Refused, as SageMaker refuses it, while
    the group still holds model packages; otherwise the group is removed from moto's backend."""
    name = self._get_param("ModelPackageGroupName")
    backend = self.sagemaker_backend
    group = backend.describe_model_package_group(name)  # ValidationError when absent, as AWS
    if any(p.model_package_group_name == name for p in backend.model_packages.values()):
        from moto.sagemaker.exceptions import ValidationError

        raise ValidationError(f"Model package group {group.arn} is not empty.")
    del backend.model_package_groups[name]
    return ActionResult({})


def _query_definitions(self: LogsResponse) -> dict[str, dict[str, Any]]:
    backend = self.logs_backend
    if not hasattr(backend, "lakeml_query_definitions"):
        backend.lakeml_query_definitions = {}  # type: ignore[attr-defined]
    return backend.lakeml_query_definitions  # type: ignore[attr-defined]


def put_query_definition(self: LogsResponse) -> str:
    """CloudWatch Logs `PutQueryDefinition` (missing in moto 5.2.5): the monitoring module's saved
    "errors" query per runtime (`aws_cloudwatch_query_definition`). Stored as given; an id is made on
    create and kept on update, as Logs does."""
    definition_id = self._get_param("queryDefinitionId") or str(mock_random.uuid4())
    _query_definitions(self)[definition_id] = {
        "queryDefinitionId": definition_id,
        "name": self._get_param("name"),
        "queryString": self._get_param("queryString"),
        "logGroupNames": self._get_param("logGroupNames") or [],
        "lastModified": int(unix_time_millis()),
    }
    return json.dumps({"queryDefinitionId": definition_id})


def describe_query_definitions(self: LogsResponse) -> str:
    """CloudWatch Logs `DescribeQueryDefinitions` (missing in moto 5.2.5): the provider reads a query
    definition back by listing with its name as prefix. One page, filtered by that prefix."""
    prefix = self._get_param("queryDefinitionNamePrefix") or ""
    listed = [d for d in _query_definitions(self).values() if d["name"].startswith(prefix)]
    return json.dumps({"queryDefinitions": sorted(listed, key=lambda d: d["name"])})


def delete_query_definition(self: LogsResponse) -> str:
    """CloudWatch Logs `DeleteQueryDefinition` (missing in moto 5.2.5): destroy of the saved queries."""
    removed = _query_definitions(self).pop(self._get_param("queryDefinitionId"), None)
    return json.dumps({"success": removed is not None})


def _feature_groups_have_tags(original: Callable[..., Any]) -> Callable[..., Any]:
    """SageMaker `ListTags`/`AddTags` on a feature group ARN: moto 5.2.5 implements both but its ARN
    lookup has no entry for `feature-group` (an AttributeError, answered as HTTP 500), and a feature
    group created without tags has `None` for tags. The provider lists tags after every create/read of
    `aws_sagemaker_feature_group`."""

    def resolve(self: SageMakerModelBackend, arn: str) -> Any:
        if arn.split(":")[-1].startswith("feature-group/"):
            group = self.feature_groups.get(arn) or next(
                (g for g in self.feature_groups.values() if g.arn.lower() == arn.lower()), None
            )
            if group is not None:
                if group.tags is None:
                    group.tags = []
                return group
        return original(self, arn)

    return resolve


FEATURE_GROUP_FIELDS = ("Description", "OnlineStoreConfig", "ThroughputConfig")


def delete_model_package(self: SageMakerResponse) -> ActionResult:
    """SageMaker `DeleteModelPackage` (missing in moto 5.2.5). Not a provider call: the emulator tests
    that register a model version in the estate's group delete it afterwards, as the destroy of the
    group needs it empty (see `delete_model_package_group`)."""
    name = self._get_param("ModelPackageName")
    backend = self.sagemaker_backend
    arn = backend.model_package_name_mapping.get(name, name)
    if backend.model_packages.pop(arn, None) is None:
        from moto.sagemaker.exceptions import ValidationError

        raise ValidationError(f"Model package {name} does not exist.")
    return ActionResult({})


def create_feature_group(self: SageMakerResponse) -> ActionResult:
    """SageMaker `CreateFeatureGroup` as moto 5.2.5 implements it, keeping what it drops.

    moto stores neither `Description`, `OnlineStoreConfig` nor `ThroughputConfig`, and replaces the
    offline store's requested `DataCatalogConfig` with its own (`sagemaker_featurestore`, a table name with
    a timestamp), so every re-plan of `aws_sagemaker_feature_group` would replace the group. AWS keeps
    the requested catalog names and returns all of these from DescribeFeatureGroup; so does the shim."""
    requested = copy.deepcopy(self._get_param("OfflineStoreConfig") or {})
    result = ORIGINAL_CREATE_FEATURE_GROUP(self)
    created: dict[str, Any] = result.result  # type: ignore[assignment]
    group = self.sagemaker_backend.feature_groups[created["FeatureGroupArn"]]
    kept = {name: self._get_param(name) for name in FEATURE_GROUP_FIELDS if self._get_param(name)}
    group.lakeml_kept = kept  # type: ignore[attr-defined]
    if requested.get("DataCatalogConfig"):
        group.offline_store_config["DataCatalogConfig"] = requested["DataCatalogConfig"]
    if "DisableGlueTableCreation" in requested:
        group.offline_store_config["DisableGlueTableCreation"] = requested["DisableGlueTableCreation"]
    return result


def delete_feature_group(self: SageMakerResponse) -> ActionResult:
    """SageMaker `DeleteFeatureGroup` (missing in moto 5.2.5): `terraform destroy` of
    `aws_sagemaker_feature_group`. Removes the group (ResourceNotFound when absent, as AWS)."""
    name = self._get_param("FeatureGroupName")
    groups = self.sagemaker_backend.feature_groups
    arn = next((a for a, g in groups.items() if g.feature_group_name == name), None)
    if arn is None:
        from moto.sagemaker.exceptions import ResourceNotFound

        raise ResourceNotFound(f"Resource Not Found: FeatureGroup with name {name} does not exist.")
    del groups[arn]
    return ActionResult({})


def _describe_missing_feature_group(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """SageMaker `DescribeFeatureGroup` of a group that does not exist: moto 5.2.5 fails with a KeyError
    (HTTP 500); SageMaker answers ResourceNotFound, which is how the provider sees that a destroy is
    done (and that a group deleted outside Terraform is gone)."""

    def describe(self: SageMakerModelBackend, feature_group_name: str) -> dict[str, Any]:
        if not any(g.feature_group_name == feature_group_name for g in self.feature_groups.values()):
            from moto.sagemaker.exceptions import ResourceNotFound

            raise ResourceNotFound(
                f"Resource Not Found: FeatureGroup with name {feature_group_name} does not exist."
            )
        return original(self, feature_group_name)

    return describe


def _describe_kept_fields(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def describe(self: Any) -> dict[str, Any]:
        return {**original(self), **getattr(self, "lakeml_kept", {})}

    return describe


def _fargate_memory_is_the_tasks(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """ECS `RunTask` of a Fargate task definition whose container sets no `memory` (the task sets it, as
    the transform module's dbt task does): moto 5.2.5 adds each container's memory and fails on `None`
    (HTTP 500). A container without its own memory counts the task's, which is what Fargate reserves."""

    def calculate(task_definition: Any) -> dict[str, Any]:
        containers = task_definition.container_definitions
        task_memory = int(task_definition.memory or 0)
        filled = [
            c
            if any(c.get(k) for k in ("memory", "memoryReservation", "Memory", "MemoryReservation"))
            else {**c, "memory": task_memory}
            for c in containers
        ]
        task_definition.container_definitions = filled
        try:
            return original(task_definition)
        finally:
            task_definition.container_definitions = containers

    return calculate


def _dispose_delete_marker(_self: FakeDeleteMarker, garbage: bool = False) -> None:
    """S3 `DeleteObjects` of a delete marker by version id (how the provider's `force_destroy` empties a
    versioned bucket): moto 5.2.5 calls `dispose()` on whatever the version is, and a delete marker has
    none (AttributeError, HTTP 500). A marker holds no data: nothing to dispose."""


class _AlarmsSnapshot(dict[str, Any]):
    """CloudWatch alarms whose `values()` is a snapshot: moto 5.2.5 iterates its alarm dict in
    `DescribeAlarms` while other requests' `PutMetricAlarm` insert into it, and the provider creates the
    alarms in parallel ("dictionary changed size during iteration", HTTP 500, seen in the apply)."""

    def values(self) -> list[Any]:  # type: ignore[override]
        return list(super().values())


def _snapshot_alarms(original: Callable[..., None]) -> Callable[..., None]:
    def init(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.alarms = _AlarmsSnapshot(self.alarms)

    return init


def install(patch: pytest.MonkeyPatch) -> None:
    """Every shim above. (Lambda's dropped `DeadLetterConfig`, shimmed for the hand-made apply of
    2026-11-27, needs none now: no function sets one; ingestion's failures go to its on-failure
    destination, which moto reads back.)"""
    patch.setattr(
        StepFunctionResponse,
        "validate_state_machine_definition",
        validate_state_machine_definition,
        raising=False,
    )
    patch.setattr(
        StepFunctionResponse, "list_state_machine_versions", list_state_machine_versions, raising=False
    )
    patch.setattr(SageMakerResponse, "delete_model_package_group", delete_model_package_group, raising=False)
    for name, shim in {
        "put_query_definition": put_query_definition,
        "describe_query_definitions": describe_query_definitions,
        "delete_query_definition": delete_query_definition,
    }.items():
        patch.setattr(LogsResponse, name, shim, raising=False)
    patch.setattr(
        SageMakerModelBackend,
        "_get_resource_from_arn",
        _feature_groups_have_tags(SageMakerModelBackend._get_resource_from_arn),
    )
    patch.setattr(SageMakerResponse, "create_feature_group", create_feature_group)
    patch.setattr(SageMakerResponse, "delete_model_package", delete_model_package, raising=False)
    patch.setattr(SageMakerResponse, "delete_feature_group", delete_feature_group, raising=False)
    patch.setattr(
        SageMakerModelBackend,
        "describe_feature_group",
        _describe_missing_feature_group(SageMakerModelBackend.describe_feature_group),
    )
    patch.setattr(FeatureGroup, "describe", _describe_kept_fields(FeatureGroup.describe))
    patch.setattr(
        EC2ContainerServiceBackend,
        "_calculate_task_resource_requirements",
        staticmethod(
            _fargate_memory_is_the_tasks(EC2ContainerServiceBackend._calculate_task_resource_requirements)
        ),
    )
    patch.setattr(FakeDeleteMarker, "dispose", _dispose_delete_marker, raising=False)
    patch.setattr(CloudWatchBackend, "__init__", _snapshot_alarms(CloudWatchBackend.__init__))
