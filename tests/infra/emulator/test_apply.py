"""infra/envs/dev as applied to the emulator (issue 13 §1): what AWS holds, read back with boto3, is what
the modules promise — every bucket encrypted, TLS-only, private and versioned; the watermark table under
the lake's key with point-in-time recovery; every alarm notifying a topic of the estate; the rules and
the schedule wired to their targets; the ingestion Lambda's failures going to its queue; the state
machine holding exactly the rendered daily flow. Then a re-plan finds nothing to change. The destroy and
its check are the `estate` fixture's teardown (tests/infra/emulator/conftest.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra.emulator.estate import Estate
from tests.infra.terraform_cli import INFRA

pytestmark = pytest.mark.xdist_group("emulator")


def _buckets(estate: Estate) -> list[str]:
    return sorted(r["values"]["bucket"] for r in estate.resources("aws_s3_bucket"))


def _statements(policy: str | dict[str, Any]) -> list[dict[str, Any]]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_estate_applied_every_area(estate: Estate) -> None:
    types = {r["type"] for r in estate.resources()}
    expected = {
        "aws_s3_bucket",
        "aws_kms_key",
        "aws_dynamodb_table",
        "aws_lambda_function",
        "aws_sfn_state_machine",
        "aws_glue_catalog_database",
        "aws_sagemaker_feature_group",
        "aws_sagemaker_model_package_group",
        "aws_sagemaker_pipeline",
        "aws_ecs_task_definition",
        "aws_cloudwatch_metric_alarm",
        "aws_scheduler_schedule",
        "aws_iam_role_policy",
    }
    assert expected <= types, f"not applied: {sorted(expected - types)}"
    stack = estate.stack
    assert stack["lake_bucket"] in _buckets(estate)
    assert stack["lakeml_env"]["LAKEML_AWS__ACCOUNT_ID"] == estate.account_id


def test_every_bucket_is_encrypted_private_versioned_and_tls_only(estate: Estate) -> None:
    s3 = estate.client("s3")
    lake = estate.stack["lake_bucket"]
    for bucket in _buckets(estate):
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        default = rules[0]["ApplyServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] in ("aws:kms", "AES256"), (bucket, default)
        if bucket == lake:
            assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": estate.stack["kms_key_arn"]}
            assert rules[0].get("BucketKeyEnabled") is True

        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4, (bucket, block)

        assert s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled", bucket

        arn = f"arn:aws:s3:::{bucket}"
        tls = [
            s
            for s in _statements(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            if s["Effect"] == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
        ]
        assert tls, f"{bucket}: no Deny on aws:SecureTransport=false"
        covered = {r for s in tls for r in _as_list(s["Resource"])}
        assert {arn, f"{arn}/*"} <= covered, (bucket, covered)
        assert all(_as_list(s["Principal"]) in (["*"], [{"AWS": "*"}]) for s in tls), tls


def test_the_lake_key_rotates_and_only_the_account_administers_it(estate: Estate) -> None:
    kms = estate.client("kms")
    key_id = estate.stack["kms_key_arn"].rsplit("/", 1)[-1]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    policy = _statements(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    admins = [s for s in policy if s.get("Principal", {}).get("AWS")]
    assert admins and all(
        p.endswith(f":{estate.account_id}:root") or f":{estate.account_id}:role/" in p
        for s in admins
        for p in _as_list(s["Principal"]["AWS"])
    ), admins


def test_the_watermark_table_is_under_the_lake_key_with_point_in_time_recovery(estate: Estate) -> None:
    dynamodb = estate.client("dynamodb")
    table = dynamodb.describe_table(TableName=estate.stack["watermark_table"])["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["table_name"]
    sse = table["SSEDescription"]
    assert (sse["Status"], sse["SSEType"], sse["KMSMasterKeyArn"]) == (
        "ENABLED",
        "KMS",
        estate.stack["kms_key_arn"],
    )
    backups = dynamodb.describe_continuous_backups(TableName=estate.stack["watermark_table"])
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


def test_every_alarm_notifies_a_topic_of_the_estate(estate: Estate) -> None:
    topics = {estate.stack["warning_topic_arn"], estate.stack["critical_topic_arn"]}
    sns = estate.client("sns")
    for topic in topics:
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        assert attributes.get("KmsMasterKeyId"), f"{topic} is not encrypted"
    names = estate.stack["alarm_names"]
    alarms = estate.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(names)
    for alarm in alarms:
        assert alarm["AlarmActions"] and set(alarm["AlarmActions"]) <= topics, alarm["AlarmName"]
        assert set(alarm.get("OKActions", [])) <= topics, alarm["AlarmName"]
    escalated = [a for a in alarms if a["AlarmName"].endswith("-persists")]
    assert escalated and all(a["AlarmActions"] == [estate.stack["critical_topic_arn"]] for a in escalated)


def test_every_rule_targets_a_function_of_the_estate_that_lets_it_invoke(estate: Estate) -> None:
    events = estate.client("events")
    lambdas = estate.client("lambda")
    functions = set(estate.stack["function_arns"].values())
    rules = {r["values"]["name"]: r["values"] for r in estate.resources("aws_cloudwatch_event_rule")}
    assert {"lakeml-dev-pipeline-failed", "lakeml-dev-model-approved"} <= set(rules), sorted(rules)
    for name, rule in rules.items():
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        assert len(targets) == 1 and targets[0]["Arn"] in functions, (name, targets)
        policy = _statements(lambdas.get_policy(FunctionName=targets[0]["Arn"])["Policy"])
        assert any(
            s["Principal"] == {"Service": "events.amazonaws.com"}
            and s["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["arn"]
            for s in policy
        ), f"{targets[0]['Arn']} does not let rule {name} invoke it"
    failed = json.loads(events.describe_rule(Name="lakeml-dev-pipeline-failed")["EventPattern"])
    assert failed["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    assert sorted(failed["detail"]["pipelineArn"]) == sorted(estate.stack["pipelines"]["arns"].values())
    notify = estate.stack["function_arns"]["notify"]
    assert events.list_targets_by_rule(Rule="lakeml-dev-pipeline-failed")["Targets"][0]["Arn"] == notify


def test_the_daily_schedule_starts_the_state_machine_with_its_own_role(estate: Estate) -> None:
    schedule = estate.client("scheduler").get_schedule(Name="lakeml-dev-daily-flow")
    target = schedule["Target"]
    assert target["Arn"] == estate.stack["state_machine_arn"]
    assert schedule["State"] == "DISABLED"  # dev: started by hand unless flow_schedule_enabled
    assert json.loads(target["Input"])["tables"]
    role = target["RoleArn"].rsplit("/", 1)[-1]
    document = estate.client("iam").get_role_policy(RoleName=role, PolicyName="start-the-flow")
    (statement,) = _statements(document["PolicyDocument"])
    assert (statement["Action"], statement["Resource"]) == ("states:StartExecution", target["Arn"])


def test_ingestion_failures_go_to_its_queue(estate: Estate) -> None:
    lambdas = estate.client("lambda")
    function = estate.stack["ingestion_function_arn"]
    dlq = estate.stack["ingestion_dlq_arn"]
    invoke = lambdas.get_function_event_invoke_config(FunctionName=function)
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == dlq
    queue_url = estate.client("sqs").get_queue_url(QueueName=dlq.rsplit(":", 1)[-1])["QueueUrl"]
    attributes = estate.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes.get("KmsMasterKeyId") or attributes.get("SqsManagedSseEnabled") == "true", attributes
    allowed = _statements(attributes["Policy"])
    assert any(s["Effect"] == "Deny" for s in allowed), "the queue is not TLS-only"


def test_the_state_machine_is_the_rendered_daily_flow(estate: Estate) -> None:
    """The definition on the emulator equals infra/modules/flow/daily_flow.asl.json with its placeholders
    filled from the estate's own resources (not from Terraform's rendering of them)."""
    stack = estate.stack
    groups = [
        r["values"]["id"]
        for r in estate.resources("aws_security_group")
        if r["address"].startswith("module.lakeml.module.transform.")
    ]
    values = {
        "ingest_function_arn": stack["function_arns"]["ingestion"],
        "quality_function_arn": stack["function_arns"]["quality"],
        "notify_function_arn": stack["function_arns"]["notify"],
        "dbt_cluster_arn": stack["dbt_task"]["cluster_arn"],
        "dbt_task_definition_arn": stack["dbt_task"]["task_definition_arn"],
        "dbt_container_name": estate.client("ecs").describe_task_definition(
            taskDefinition=stack["dbt_task"]["task_definition_arn"]
        )["taskDefinition"]["containerDefinitions"][0]["name"],
        "dbt_subnets_csv": ",".join(estate.network["subnet_ids"]),
        "dbt_security_groups_csv": ",".join(sorted(groups)),
        "training_pipeline_name": stack["pipelines"]["names"]["training"],
        "scoring_pipeline_name": stack["pipelines"]["names"]["scoring"],
    }
    template = (INFRA / "modules" / "flow" / "daily_flow.asl.json").read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", template))
    assert placeholders == set(values), placeholders ^ set(values)
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)
    machine = estate.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack["state_machine_arn"]
    )
    assert json.loads(machine["definition"]) == json.loads(rendered)
    assert machine["roleArn"].endswith(":role/lakeml-dev-daily-flow")
    assert machine["type"] == "STANDARD"


def test_a_re_plan_finds_no_changes(estate: Estate) -> None:
    """Read back from the emulator, every resource is what the configuration says: `plan
    -detailed-exitcode` exits 0 (2 would be a diff — a perpetual one means a moto read-back quirk to
    shim, or a real provider quirk to document)."""
    result = estate.terraform("plan", "-detailed-exitcode", "-input=false", "-parallelism=32")
    assert result.code == 0, result.explain()
    assert "No changes." in result.output


def test_only_the_named_approver_may_assume_the_approver_role_and_only_with_mfa(estate: Estate) -> None:
    role = str(estate.stack["model_approver_role_arn"]).rsplit("/", 1)[-1]
    trust = estate.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    (statement,) = _statements(trust)
    assert _as_list(statement["Principal"]["AWS"]) == estate.network["approver_principal_arns"]
    assert "aws:MultiFactorAuthPresent" in json.dumps(statement.get("Condition", {}))
