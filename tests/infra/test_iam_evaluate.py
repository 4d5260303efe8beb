"""The least-privilege evaluator (tests/infra/emulator/iam) on hand-written policies: known allow and deny
cases, so a broken evaluator fails here before it can pass a role it should not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.emulator.iam.actions import Unmapped, accesses, actions_of
from tests.infra.emulator.iam.evaluate import Decision, evaluate, granted, role_policies, statements
from tests.infra.emulator.iam.recorder import Call, RoleRun, s3_operation
from tests.infra.emulator.iam.report import check

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BUCKET = "arn:aws:s3:::lake"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lakeml-dev-sagemaker-execution"


def policy(*stmts: dict[str, Any]) -> list[Any]:
    return statements("test", {"Version": "2012-10-17", "Statement": list(stmts)})


def allow(
    action: Any, resource: Any, condition: dict[str, Any] | None = None, sid: str = "A"
) -> dict[str, Any]:
    s = {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition
    return s


def decide(stmts: list[Any], service: str, operation: str, **params: Any) -> Decision:
    decisions = {
        evaluate(stmts, a).decision for a in accesses(Call(service, operation, params, REGION), ACCOUNT)
    }
    # a call is allowed only when every IAM request it makes is
    for worst in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY, Decision.CONDITION_NOT_EVALUATED):
        if worst in decisions:
            return worst
    return Decision.ALLOWED


LAKE = policy(
    allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], f"{BUCKET}/bronze/*", sid="Objects"),
    allow("s3:ListBucket", BUCKET, {"StringLikeIfExists": {"s3:prefix": ["bronze/*"]}}, sid="List"),
)


def test_object_calls_are_scoped_to_the_prefix() -> None:
    assert decide(LAKE, "s3", "GetObject", Bucket="lake", Key="bronze/t/x.parquet") is Decision.ALLOWED
    assert decide(LAKE, "s3", "HeadObject", Bucket="lake", Key="bronze/t/x.parquet") is Decision.ALLOWED
    assert decide(LAKE, "s3", "PutObject", Bucket="lake", Key="silver/t/x.parquet") is Decision.IMPLICIT_DENY
    assert decide(LAKE, "s3", "GetObject", Bucket="other", Key="bronze/x") is Decision.IMPLICIT_DENY


def test_copy_needs_get_on_the_source_and_put_on_the_target() -> None:
    inside = {"Bucket": "lake", "Key": "bronze/b", "CopySource": "lake/bronze/a"}
    assert decide(LAKE, "s3", "CopyObject", **inside) is Decision.ALLOWED
    outside = {"Bucket": "lake", "Key": "bronze/b", "CopySource": "lake/gold/a"}
    assert decide(LAKE, "s3", "CopyObject", **outside) is Decision.IMPLICIT_DENY


def test_delete_objects_is_authorised_per_key() -> None:
    keys = {"Objects": [{"Key": "bronze/a"}, {"Key": "bronze/b"}]}
    assert decide(LAKE, "s3", "DeleteObjects", Bucket="lake", Delete=keys) is Decision.ALLOWED
    keys["Objects"].append({"Key": "gold/c"})
    assert decide(LAKE, "s3", "DeleteObjects", Bucket="lake", Delete=keys) is Decision.IMPLICIT_DENY


def test_listing_prefix_condition_if_exists() -> None:
    assert decide(LAKE, "s3", "ListObjectsV2", Bucket="lake", Prefix="bronze/t/") is Decision.ALLOWED
    assert decide(LAKE, "s3", "ListObjectsV2", Bucket="lake", Prefix="gold/") is Decision.IMPLICIT_DENY
    # HeadBucket is s3:ListBucket without a prefix: IfExists lets it through
    assert decide(LAKE, "s3", "HeadBucket", Bucket="lake") is Decision.ALLOWED


def test_a_condition_without_if_exists_needs_the_key() -> None:
    strict = policy(allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["registry/*"]}}))
    assert decide(strict, "s3", "ListObjectsV2", Bucket="lake", Prefix="registry/g/1/") is Decision.ALLOWED
    assert decide(strict, "s3", "ListObjectsV2", Bucket="lake") is Decision.IMPLICIT_DENY
    assert decide(strict, "s3", "HeadBucket", Bucket="lake") is Decision.IMPLICIT_DENY


def test_action_wildcards_and_case() -> None:
    stmts = policy(allow("S3:get*", f"{BUCKET}/*"), allow("sagemaker:Describe?odel", "*", sid="B"))
    assert decide(stmts, "s3", "GetObject", Bucket="lake", Key="x") is Decision.ALLOWED
    assert decide(stmts, "s3", "PutObject", Bucket="lake", Key="x") is Decision.IMPLICIT_DENY
    assert decide(stmts, "sagemaker", "DescribeModel", ModelName="m") is Decision.ALLOWED


def test_explicit_deny_wins_over_allow() -> None:
    stmts = policy(
        allow("sagemaker:*", "*"),
        {"Sid": "NeverApprove", "Effect": "Deny", "Action": "sagemaker:UpdateModelPackage", "Resource": "*"},
    )
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/1"
    assert decide(stmts, "sagemaker", "UpdateModelPackage", ModelPackageArn=arn) is Decision.EXPLICIT_DENY
    assert decide(stmts, "sagemaker", "DescribeModelPackage", ModelPackageName=arn) is Decision.ALLOWED


def test_not_action_and_not_resource() -> None:
    stmts = policy(
        {"Sid": "N", "Effect": "Allow", "NotAction": "s3:DeleteObject", "NotResource": f"{BUCKET}/gold/*"}
    )
    assert decide(stmts, "s3", "GetObject", Bucket="lake", Key="bronze/x") is Decision.ALLOWED
    assert decide(stmts, "s3", "DeleteObject", Bucket="lake", Key="bronze/x") is Decision.IMPLICIT_DENY
    assert decide(stmts, "s3", "GetObject", Bucket="lake", Key="gold/x") is Decision.IMPLICIT_DENY


def test_pass_role_is_checked_with_the_service_it_is_passed_to() -> None:
    stmts = policy(
        allow(["sagemaker:CreateModel"], f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/*"),
        allow(
            "iam:PassRole",
            ROLE,
            {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            sid="P",
        ),
    )
    assert decide(stmts, "sagemaker", "CreateModel", ModelName="m", ExecutionRoleArn=ROLE) is Decision.ALLOWED
    other = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assert (
        decide(stmts, "sagemaker", "CreateModel", ModelName="m", ExecutionRoleArn=other)
        is Decision.IMPLICIT_DENY
    )
    glue = policy(
        allow("iam:PassRole", ROLE, {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}})
    )
    (passed,) = [
        a
        for a in accesses(
            Call("sagemaker", "CreateModel", {"ModelName": "m", "ExecutionRoleArn": ROLE}, REGION), ACCOUNT
        )
        if a.action == "iam:PassRole"
    ]
    assert evaluate(glue, passed).decision is Decision.IMPLICIT_DENY


def test_conditions_on_keys_the_call_does_not_determine_are_not_silently_allowed() -> None:
    via = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    stmts = policy(allow("sns:Publish", "*", via))
    result = evaluate(
        stmts, accesses(Call("sns", "Publish", {"TopicArn": "arn:aws:sns:eu-west-1:1:t"}, REGION), ACCOUNT)[0]
    )
    assert result.decision is Decision.CONDITION_NOT_EVALUATED
    assert result.unknown_keys == ("kms:ViaService",)
    # a Deny with an unknown condition is not evidence of an allow either
    deny = policy(
        allow("sns:Publish", "*"),
        {"Sid": "D", "Effect": "Deny", "Action": "sns:*", "Resource": "*", "Condition": via},
    )
    assert (
        decide(deny, "sns", "Publish", TopicArn="arn:aws:sns:eu-west-1:1:t")
        is Decision.CONDITION_NOT_EVALUATED
    )


def test_action_names_follow_iam_not_the_operation() -> None:
    def names(op: str) -> tuple[str, ...]:
        return actions_of(Call("s3", op, {}, REGION))

    assert names("ListObjectsV2") == ("s3:ListBucket",)
    assert names("HeadObject") == ("s3:GetObject",)
    assert names("UploadPart") == ("s3:PutObject",)
    assert names("DeleteObjects") == ("s3:DeleteObject",)
    assert actions_of(Call("monitoring", "PutMetricData", {}, REGION)) == ("cloudwatch:PutMetricData",)
    assert actions_of(Call("states", "StartExecution", {}, REGION)) == ("states:StartExecution",)
    with pytest.raises(Unmapped, match="not an IAM action"):
        actions_of(Call("s3", "FrobnicateBucket", {}, REGION))
    with pytest.raises(Unmapped, match="no resource mapping"):
        accesses(Call("ec2", "DescribeInstances", {}, REGION), ACCOUNT)


def test_calls_iam_does_not_authorise_need_no_grant() -> None:
    assert accesses(Call("sts", "GetCallerIdentity", {}, REGION), ACCOUNT) == []


def test_sagemaker_arns_are_lower_case_and_typed() -> None:
    (a,) = accesses(Call("sagemaker", "DescribeEndpoint", {"EndpointName": "Churn-Prod"}, REGION), ACCOUNT)
    assert a.resource == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/churn-prod"
    (r,) = accesses(
        Call("sagemaker-featurestore-runtime", "PutRecord", {"FeatureGroupName": "f", "Record": []}, REGION),
        ACCOUNT,
    )
    assert (r.action, r.resource) == (
        "sagemaker:PutRecord",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:feature-group/f",
    )


def test_granted_expands_wildcards_with_policy_sentry() -> None:
    actions = granted(policy(allow("s3:GetObject*", "*"), allow("dynamodb:GetItem", "*", sid="B")))
    assert ("test/A", "s3:GetObject") in actions and ("test/A", "s3:GetObjectTagging") in actions
    assert ("test/B", "dynamodb:GetItem") in actions


def test_a_call_that_cannot_be_mapped_is_reported_as_denied() -> None:
    run = RoleRun("r", ROLE, "runtime", [Call("sagemaker", "DescribeModelPackage", {}, REGION)])
    (line,) = check("r", LAKE, [run], ACCOUNT, {}).denied
    assert "cannot be mapped to IAM" in line and "ModelPackageArn" in line


def test_check_reports_denied_unused_and_justified() -> None:
    stmts = policy(
        allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], f"{BUCKET}/bronze/*", sid="Objects"),
        allow(["xray:PutTraceSegments"], "*", sid="Tracing"),
    )
    run = RoleRun(
        "r",
        ROLE,
        "runtime",
        [
            Call("s3", "GetObject", {"Bucket": "lake", "Key": "bronze/a"}, REGION),
            Call("s3", "PutObject", {"Bucket": "lake", "Key": "gold/a"}, REGION),
        ],
    )
    report = check("r", stmts, [run], ACCOUNT, {"xray:PutTraceSegments": "the Lambda runtime sends traces"})
    assert report.calls == 2
    (denied,) = report.denied
    assert 'needs Allow "s3:PutObject" on "arn:aws:s3:::lake/gold/a"' in denied
    # the denied PutObject did not use the grant: only the allowed GetObject did
    assert report.unused == ["s3:PutObject (test/Objects)", "s3:DeleteObject (test/Objects)"]
    assert report.justified == {"xray:PutTraceSegments (test/Tracing)": "the Lambda runtime sends traces"}


def test_use_is_counted_per_statement() -> None:
    stmts = policy(
        allow("s3:DeleteObject", f"{BUCKET}/bronze/*", sid="Bronze"),
        allow("s3:DeleteObject", f"{BUCKET}/gold/*", sid="Gold"),
    )
    run = RoleRun(
        "r", ROLE, "runtime", [Call("s3", "DeleteObject", {"Bucket": "lake", "Key": "bronze/a"}, REGION)]
    )
    report = check("r", stmts, [run], ACCOUNT, {})
    assert report.used == ["s3:DeleteObject (test/Bronze)"]
    assert report.unused == ["s3:DeleteObject (test/Gold)"]


def test_role_policies_reads_inline_and_attached_policies_from_the_state() -> None:
    doc = json.dumps({"Version": "2012-10-17", "Statement": [allow("s3:GetObject", "*", sid="Inline")]})
    managed = json.dumps({"Version": "2012-10-17", "Statement": [allow("s3:PutObject", "*", sid="Managed")]})

    def res(type_: str, **values: Any) -> dict[str, Any]:
        return {"mode": "managed", "type": type_, "values": values}

    state = {
        "values": {
            "root_module": {
                "child_modules": [
                    {
                        "resources": [
                            res("aws_iam_role", name="approver", arn="arn:aws:iam::1:role/approver"),
                            res("aws_iam_role_policy", role="approver", name="inline", policy=doc),
                            res("aws_iam_role_policy", role="other", name="inline", policy=doc),
                            res("aws_iam_policy", arn="arn:aws:iam::1:policy/p", name="p", policy=managed),
                            res(
                                "aws_iam_role_policy_attachment",
                                role="approver",
                                policy_arn="arn:aws:iam::1:policy/p",
                            ),
                        ]
                    }
                ]
            }
        }
    }
    assert [s.name for s in role_policies(state, "approver")] == ["inline:inline/Inline", "managed:p/Managed"]


def test_s3_rest_requests_name_their_operation() -> None:
    def op(
        method: str, path: str, query: dict[str, list[str]] | None = None, **headers: str
    ) -> tuple[str, dict[str, Any]]:
        call = s3_operation(method, path, query or {}, headers)
        assert call is not None
        return call.operation, call.params

    assert op("GET", "/lake", {"list-type": ["2"], "prefix": ["bronze/"]}) == (
        "ListObjectsV2",
        {"Bucket": "lake", "Prefix": "bronze/"},
    )
    assert op("HEAD", "/lake") == ("HeadBucket", {"Bucket": "lake"})
    assert op("PUT", "/lake/a/b", {"partNumber": ["1"], "uploadId": ["u"]})[0] == "UploadPart"
    assert op("PUT", "/lake/a/b", None, **{"x-amz-copy-source": "/lake/a/c"}) == (
        "CopyObject",
        {"Bucket": "lake", "Key": "a/b", "CopySource": "lake/a/c"},
    )
    assert op("POST", "/lake/a/b", {"uploads": [""]})[0] == "CreateMultipartUpload"
    assert op("DELETE", "/lake/a/b", {"uploadId": ["u"]})[0] == "AbortMultipartUpload"
    assert op("POST", "/lake", {"delete": [""]})[0] == "DeleteObjects"
