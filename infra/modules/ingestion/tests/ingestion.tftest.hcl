# Offline: a mocked AWS provider with realistic ARNs. The assertions read the policy JSON Terraform would
# send to IAM and prove the role can do what the handler does and nothing more.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/ci", user_id = "AIDAEXAMPLE" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakeml-test-ingestion" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:lakeml-test-ingestion-dlq"
      id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/lakeml-test-ingestion-dlq"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lakeml-test-ingestion" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lakeml-test/snowflake-AbCdEf" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test-ingestion" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/lakeml-test-ingestion-schedule" }
  }
}

variables {
  name_prefix          = "lakeml-test"
  image_uri            = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-ingestion:0a1b2c3"
  lake_bucket_name     = "lakeml-test-lake"
  lake_bucket_arn      = "arn:aws:s3:::lakeml-test-lake"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  watermark_table_name = "lakeml-test-watermarks"
  watermark_table_arn  = "arn:aws:dynamodb:eu-west-1:123456789012:table/lakeml-test-watermarks"
}

run "role_cannot_write_silver_or_gold" {
  assert {
    # Every Allow statement that can change an object names bronze/ or quarantine/ objects only.
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.ingestion.policy).Statement : [
        for r in flatten([s.Resource]) :
        startswith(r, "arn:aws:s3:::lakeml-test-lake/bronze/") || startswith(r, "arn:aws:s3:::lakeml-test-lake/quarantine/")
      ] if s.Effect == "Allow" && length(setintersection(toset(flatten([s.Action])), toset(["s3:PutObject", "s3:DeleteObject", "s3:*", "s3:Put*", "s3:Delete*"]))) > 0
    ]))
    error_message = "the ingestion role may write objects under bronze/ and quarantine/ only"
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.ingestion.policy, "silver") && !strcontains(aws_iam_role_policy.ingestion.policy, "gold")
    error_message = "the ingestion role's policy must not name silver or gold at all"
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.ingestion.policy).Statement : [
        for a in flatten([s.Action]) : !endswith(a, "*") || a == "kms:ViaService"
      ]
    ]))
    error_message = "no wildcard actions (s3:*, dynamodb:*, ...) in the ingestion role"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.ingestion.policy).Statement :
      s.Sid == "Tracing" || !contains(flatten([s.Resource]), "*")
    ])
    error_message = "only X-Ray (no resource-level permissions) may use Resource \"*\""
  }
}

run "manifests_are_reachable_under_bronze" {
  assert {
    # bronze/_manifests/<table>/<run>.json is covered by bronze/*; the manifest move is copy + delete.
    condition = (
      contains(local.policy_by_sid.LakeObjectsBronzeQuarantine.Resource, "arn:aws:s3:::lakeml-test-lake/bronze/*")
      && contains(local.policy_by_sid.LakeObjectsBronzeQuarantine.Resource, "arn:aws:s3:::lakeml-test-lake/quarantine/*")
      && toset(local.policy_by_sid.LakeObjectsBronzeQuarantine.Action) == toset(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"])
    )
    error_message = "the role must get/put/delete objects under bronze/ (incl. _manifests) and quarantine/"
  }
  assert {
    condition = (
      local.policy_by_sid.LakeListBronzeQuarantine.Resource == "arn:aws:s3:::lakeml-test-lake"
      && toset(local.policy_by_sid.LakeListBronzeQuarantine.Condition.StringLikeIfExists["s3:prefix"]) == toset(["bronze/*", "quarantine/*"])
    )
    error_message = "listing must be limited to the bronze/ and quarantine/ prefixes"
  }
}

run "role_touches_one_table_one_secret_one_key" {
  assert {
    condition = (
      toset(local.policy_by_sid.WatermarkTable.Action) == toset(["dynamodb:GetItem", "dynamodb:PutItem"])
      && local.policy_by_sid.WatermarkTable.Resource == var.watermark_table_arn
    )
    error_message = "DynamoDB: GetItem/PutItem on the watermark table only"
  }
  assert {
    condition = (
      local.policy_by_sid.SourceSecret.Action == "secretsmanager:GetSecretValue"
      && local.policy_by_sid.SourceSecret.Resource == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lakeml-test/snowflake-AbCdEf"
    )
    error_message = "Secrets Manager: GetSecretValue on the source secret only"
  }
  assert {
    condition = (
      local.policy_by_sid.LakeKeyThroughServices.Resource == var.kms_key_arn
      && contains(local.policy_by_sid.LakeKeyThroughServices.Condition.StringEquals["kms:ViaService"], "s3.eu-west-1.amazonaws.com")
    )
    error_message = "KMS: the lake CMK only, and only through the services the function uses"
  }
  assert {
    condition     = local.policy_by_sid.OwnLogs.Resource == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lakeml-test-ingestion:*"
    error_message = "Logs: the function's own log group only"
  }
}

run "dlq_is_the_on_failure_destination" {
  assert {
    condition     = one(one(aws_lambda_function_event_invoke_config.ingestion.destination_config).on_failure).destination == aws_sqs_queue.dlq.arn
    error_message = "failed asynchronous invocations must go to the DLQ"
  }
  assert {
    condition     = local.policy_by_sid.FailureDestination.Action == "sqs:SendMessage" && local.policy_by_sid.FailureDestination.Resource == aws_sqs_queue.dlq.arn
    error_message = "the role must be able to send to the DLQ (Lambda delivers failures as the function's role)"
  }
  assert {
    condition     = aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn && aws_sqs_queue.dlq.message_retention_seconds == 1209600
    error_message = "the DLQ must be encrypted with the CMK and keep messages 14 days"
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.ingestion.maximum_retry_attempts == 2
    error_message = "Lambda must retry a failed event twice before giving up"
  }
}

run "function_is_configured_for_aws" {
  assert {
    condition = (
      aws_lambda_function.ingestion.environment[0].variables.LAKEML_ENV == "aws"
      && aws_lambda_function.ingestion.environment[0].variables.LAKEML_AWS__LAKE_BUCKET == "lakeml-test-lake"
      && aws_lambda_function.ingestion.environment[0].variables.LAKEML_AWS__WATERMARK_TABLE == "lakeml-test-watermarks"
      && aws_lambda_function.ingestion.environment[0].variables.LAKEML_AWS__REGION == "eu-west-1"
      && aws_lambda_function.ingestion.environment[0].variables.LAKEML_SOURCE__SECRET_ID == output.source_secret_arn
      && aws_lambda_function.ingestion.environment[0].variables.POWERTOOLS_SERVICE_NAME == "lakeml-ingestion"
    )
    error_message = "the function's environment must select the aws adapters and name the bucket, table, region and secret"
  }
  assert {
    condition     = aws_lambda_function.ingestion.package_type == "Image" && aws_lambda_function.ingestion.image_uri == var.image_uri
    error_message = "the function runs the given container image"
  }
  assert {
    condition     = aws_lambda_function.ingestion.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be active"
  }
  assert {
    condition     = aws_cloudwatch_log_group.function.retention_in_days == 30 && aws_cloudwatch_log_group.function.kms_key_id == var.kms_key_arn
    error_message = "the log group must have a retention and the CMK"
  }
  assert {
    condition     = aws_cloudwatch_event_target.schedule.arn == aws_lambda_function.ingestion.arn && aws_lambda_permission.schedule.source_arn == aws_cloudwatch_event_rule.schedule.arn
    error_message = "the schedule must invoke the function, and only that rule may"
  }
}

run "existing_secret_is_used_instead_of_a_new_one" {
  variables {
    source_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared/snowflake-XyZ123"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.source) == 0 && local.policy_by_sid.SourceSecret.Resource == var.source_secret_arn
    error_message = "with source_secret_arn no secret is created and the role reads the given one"
  }
}

run "rejects_an_image_outside_ecr" {
  command = plan
  variables {
    image_uri = "docker.io/library/python:3.11"
  }
  expect_failures = [var.image_uri]
}

run "rejects_more_retries_than_lambda_allows" {
  command = plan
  variables {
    max_retry_attempts = 3
  }
  expect_failures = [var.max_retry_attempts]
}

run "rejects_zero_reserved_concurrency" {
  command = plan
  variables {
    reserved_concurrency = 0
  }
  expect_failures = [var.reserved_concurrency]
}
