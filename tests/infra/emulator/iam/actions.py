"""Map one recorded API call to the IAM request(s) AWS authorises it as: action, resource ARN and the
condition keys the call determines.

The action is `<IAM prefix>:<Operation>` except where IAM names the permission differently
(`ACTION_EXCEPTIONS`: S3's object and listing calls mostly); every action is checked against
policy_sentry's IAM database, so a typo or a renamed permission fails here rather than silently never
matching. Resource ARNs are built from the call's parameters per service (`_resources`); a call whose
resource is not mapped raises `Unmapped`, so a new kind of call cannot slip through unchecked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policy_sentry.querying.actions import get_action_data

from tests.infra.emulator.iam.recorder import Call

PARTITION = "aws"

# botocore signing name -> IAM service prefix, where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch", "sagemaker-featurestore-runtime": "sagemaker"}

# (prefix, operation) -> the IAM actions that authorise it, when not `<prefix>:<operation>`.
ACTION_EXCEPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPartCopy"): ("s3:PutObject", "s3:GetObject"),
    ("s3", "CopyObject"): ("s3:PutObject", "s3:GetObject"),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
}

# The service a role is passed to, by the call that passes it (the `iam:PassedToService` condition key).
PASSES_ROLE: dict[tuple[str, str], tuple[str, str]] = {
    ("sagemaker", "CreateModel"): ("ExecutionRoleArn", "sagemaker.amazonaws.com"),
    ("sagemaker", "CreateFeatureGroup"): ("RoleArn", "sagemaker.amazonaws.com"),
    ("sagemaker", "CreatePipeline"): ("RoleArn", "sagemaker.amazonaws.com"),
    ("sagemaker", "UpdatePipeline"): ("RoleArn", "sagemaker.amazonaws.com"),
    ("sagemaker", "CreateTrainingJob"): ("RoleArn", "sagemaker.amazonaws.com"),
    ("sagemaker", "CreateProcessingJob"): ("RoleArn", "sagemaker.amazonaws.com"),
    ("glue", "CreateSession"): ("Role", "glue.amazonaws.com"),
}


# Calls IAM does not authorise: anyone with credentials may make them (the Snowflake connector asks STS
# who it runs as when it detects its platform).
NO_PERMISSION_NEEDED = frozenset({("sts", "GetCallerIdentity")})


class Unmapped(Exception):
    """A call whose action or resource this module cannot name: add it here, do not skip it."""


@dataclass(frozen=True)
class Access:
    """One authorisation AWS makes for a call."""

    action: str
    resource: str
    call: Call
    context: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}"


@functools.cache
def known_action(action: str) -> bool:
    """Whether policy_sentry's IAM database has `action` (case-insensitive, as IAM is)."""
    prefix, name = action.split(":", 1)
    try:
        rows = get_action_data(prefix, name).get(prefix, [])
    except Exception:
        return False
    return bool(rows)


def actions_of(call: Call) -> tuple[str, ...]:
    prefix = IAM_PREFIX.get(call.service, call.service)
    actions = ACTION_EXCEPTIONS.get((prefix, call.operation), (f"{prefix}:{call.operation}",))
    for action in actions:
        if not known_action(action):
            raise Unmapped(f"{call}: {action} is not an IAM action in policy_sentry's database")
    return actions


def accesses(call: Call, account: str) -> list[Access]:
    """Every (action, resource, context) AWS authorises `call` as."""
    prefix = IAM_PREFIX.get(call.service, call.service)
    if (prefix, call.operation) in NO_PERMISSION_NEEDED:
        return []
    arn = Arns(call.region, account)
    builder = _RESOURCES.get(prefix)
    if builder is None:
        raise Unmapped(f"{call}: no resource mapping for service {prefix!r}")
    found: list[Access] = []
    for action in actions_of(call):
        context = dict(_context(prefix, call))
        try:
            resources = builder(action, call, arn)
        except KeyError as exc:
            raise Unmapped(f"{call}: {action} needs parameter {exc} to name its resource") from None
        for resource in resources:
            found.append(Access(action, resource, call, context))
    found.extend(_passed_role(prefix, call))
    return found


@dataclass(frozen=True)
class Arns:
    region: str
    account: str

    def of(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if region else ''}:{self.account if account else ''}:{resource}"


def _context(prefix: str, call: Call) -> dict[str, str]:
    p = call.params
    context: dict[str, str] = {"aws:SecureTransport": "true"}
    if prefix == "s3" and call.operation in ("ListObjectsV2", "ListObjects") and "Prefix" in p:
        context["s3:prefix"] = p["Prefix"]
    if prefix == "cloudwatch" and call.operation == "PutMetricData":
        context["cloudwatch:namespace"] = p.get("Namespace", "")
    if prefix == "ecs" and "cluster" in {k.lower() for k in p}:
        context["ecs:cluster"] = p.get("cluster", "")
    if prefix == "iam" and call.operation == "PassRole":  # a permission, not an API: the ASL's ECS tasks
        context["iam:PassedToService"] = p["PassedToService"]
    if prefix == "iam" and call.operation == "CreateServiceLinkedRole":
        context["iam:AWSServiceName"] = p.get("AWSServiceName", "")
    return context


def _passed_role(prefix: str, call: Call) -> list[Access]:
    passing = PASSES_ROLE.get((prefix, call.operation))
    if passing is None or not call.params.get(passing[0]):
        return []
    role = call.params[passing[0]]
    return [Access("iam:PassRole", role, call, {"iam:PassedToService": passing[1]})]


# ------------------------------------------------------------------------------ resources by service


def _s3(action: str, call: Call, arn: Arns) -> list[str]:
    p = call.params
    bucket = f"arn:{PARTITION}:s3:::{p['Bucket']}"
    if action in (
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:ListBucketMultipartUploads",
        "s3:ListBucketVersions",
    ):
        return [bucket]
    if call.operation in ("CopyObject", "UploadPartCopy") and action == "s3:GetObject":
        return [f"arn:{PARTITION}:s3:::{p['CopySource']}"]
    if call.operation == "DeleteObjects":
        return [f"{bucket}/{item['Key']}" for item in p["Delete"]["Objects"]]
    if "Key" in p:
        return [f"{bucket}/{p['Key']}"]
    raise Unmapped(f"{call}: no S3 resource for {action}")


def _dynamodb(action: str, call: Call, arn: Arns) -> list[str]:
    return [arn.of("dynamodb", f"table/{call.params['TableName']}")]


def _secretsmanager(action: str, call: Call, arn: Arns) -> list[str]:
    secret = call.params["SecretId"]
    return [secret if secret.startswith("arn:") else arn.of("secretsmanager", f"secret:{secret}")]


def _sns(action: str, call: Call, arn: Arns) -> list[str]:
    return [call.params.get("TopicArn") or call.params["TargetArn"]]


def _states(action: str, call: Call, arn: Arns) -> list[str]:
    p = call.params
    return [p.get("stateMachineArn") or p["executionArn"]]


def _package_group_of(name: str) -> str:
    """A model package ARN or name (`group/version` in its ARN) -> its group's name."""
    return name.split(":model-package/", 1)[-1].split("/", 1)[0]


# SageMaker operation parameter -> resource type of its ARN (names are lower case in SageMaker ARNs).
_SAGEMAKER_NAMES = {
    "EndpointName": "endpoint",
    "EndpointConfigName": "endpoint-config",
    "ModelName": "model",
    "FeatureGroupName": "feature-group",
    "PipelineName": "pipeline",
    "TrainingJobName": "training-job",
    "ProcessingJobName": "processing-job",
    "TransformJobName": "transform-job",
    "HyperParameterTuningJobName": "hyper-parameter-tuning-job",
}

_SAGEMAKER_STAR = {
    "ListModelPackageGroups",
    "ListPipelines",
    "ListEndpoints",
    "ListModels",
    "ListFeatureGroups",
}


def _sagemaker(action: str, call: Call, arn: Arns) -> list[str]:
    p, op = call.params, call.operation
    if op in _SAGEMAKER_STAR:
        return ["*"]
    if op == "CreateEndpoint":  # authorised on the endpoint and on the config it uses
        return [
            arn.of("sagemaker", f"endpoint/{p['EndpointName'].lower()}"),
            arn.of("sagemaker", f"endpoint-config/{p['EndpointConfigName'].lower()}"),
        ]
    if op == "UpdateEndpoint":
        return [
            arn.of("sagemaker", f"endpoint/{p['EndpointName'].lower()}"),
            arn.of("sagemaker", f"endpoint-config/{p['EndpointConfigName'].lower()}"),
        ]
    if op in ("DescribeModelPackage", "UpdateModelPackage"):
        name = p.get("ModelPackageName") or p["ModelPackageArn"]  # Update takes the ARN
        return [name if name.startswith("arn:") else arn.of("sagemaker", f"model-package/{name.lower()}")]
    if op in ("DescribeModelPackageGroup", "CreateModelPackageGroup", "DeleteModelPackageGroup"):
        return [arn.of("sagemaker", f"model-package-group/{p['ModelPackageGroupName'].lower()}")]
    if op == "ListModelPackages":  # scoped to the group it lists (its package ARNs are group/version)
        return [arn.of("sagemaker", f"model-package-group/{p['ModelPackageGroupName'].lower()}")]
    if op == "CreateModelPackage":
        group = p["ModelPackageGroupName"]
        return [arn.of("sagemaker", f"model-package-group/{_package_group_of(group).lower()}")]
    if op in (
        "DescribePipelineExecution",
        "ListPipelineExecutionSteps",
        "ListPipelineParametersForExecution",
        "StopPipelineExecution",
    ):
        return [p["PipelineExecutionArn"]]
    if op in ("AddTags", "ListTags", "DeleteTags"):
        return [p["ResourceArn"]]
    for param, kind in _SAGEMAKER_NAMES.items():
        if param in p:
            name = p[param]
            return [name if name.startswith("arn:") else arn.of("sagemaker", f"{kind}/{name.lower()}")]
    raise Unmapped(f"{call}: no SageMaker resource mapping")


def _application_autoscaling(action: str, call: Call, arn: Arns) -> list[str]:
    return ["*"]  # no resource-level permissions for the calls lakeml makes (RegisterScalableTarget, ...)


def _star(action: str, call: Call, arn: Arns) -> list[str]:
    return ["*"]


def _iam(action: str, call: Call, arn: Arns) -> list[str]:
    p = call.params
    if call.operation == "CreateServiceLinkedRole":
        service = p["AWSServiceName"]
        return [arn.of("iam", f"role/aws-service-role/{service}/*", region=False)]
    if "RoleArn" in p:
        return [p["RoleArn"]]
    if "RoleName" in p:
        return [arn.of("iam", f"role/{p['RoleName']}", region=False)]
    raise Unmapped(f"{call}: no IAM resource mapping")


def _lambda(action: str, call: Call, arn: Arns) -> list[str]:
    name = call.params["FunctionName"]
    return [name if name.startswith("arn:") else arn.of("lambda", f"function:{name}")]


def _glue(action: str, call: Call, arn: Arns) -> list[str]:
    p, op = call.params, call.operation
    catalog = arn.of("glue", "catalog")
    if "SessionId" in p or "Id" in p:
        return [arn.of("glue", f"session/{p.get('SessionId') or p['Id']}")]
    database = p.get("DatabaseName") or p.get("Name") if op.endswith("Database") else p.get("DatabaseName")
    if op in ("GetDatabases",):
        return [catalog]
    if op.endswith("Database") and database:
        return [catalog, arn.of("glue", f"database/{database}")]
    if database and (table := p.get("Name") or p.get("TableName") or (p.get("TableInput") or {}).get("Name")):
        return [catalog, arn.of("glue", f"database/{database}"), arn.of("glue", f"table/{database}/{table}")]
    if database:  # GetTables and the like: every table of the database
        return [catalog, arn.of("glue", f"database/{database}"), arn.of("glue", f"table/{database}/*")]
    raise Unmapped(f"{call}: no Glue resource mapping")


def _ecs(action: str, call: Call, arn: Arns) -> list[str]:
    p = call.params
    if call.operation == "RunTask":
        return [p["taskDefinition"]]
    if "task" in p:
        return [p["task"]]
    raise Unmapped(f"{call}: no ECS resource mapping")


def _events(action: str, call: Call, arn: Arns) -> list[str]:
    return [arn.of("events", f"rule/{call.params['Name']}")]


_RESOURCES: dict[str, Callable[[str, Call, Arns], list[str]]] = {
    "ecs": _ecs,
    "events": _events,
    "s3": _s3,
    "dynamodb": _dynamodb,
    "secretsmanager": _secretsmanager,
    "sns": _sns,
    "states": _states,
    "sagemaker": _sagemaker,
    "application-autoscaling": _application_autoscaling,
    "cloudwatch": _star,
    "xray": _star,
    "sts": _star,
    "iam": _iam,
    "lambda": _lambda,
    "glue": _glue,
}


def describe(params: Mapping[str, Any]) -> str:
    """A short rendering of a call's parameters for failure messages."""
    keep = {k: v for k, v in params.items() if isinstance(v, str) and len(v) < 120}
    return ", ".join(f"{k}={v}" for k, v in sorted(keep.items()))
