# The whole env wired together, offline. Module tests prove each part; these prove the wiring: every
# name a part is given is the one another part created.

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
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", key_id = "1234abcd-12ab-34cd-56ef-1234567890ab" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/lakeml-dev-watermarks" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lakeml-dev/snowflake-AbCdEf" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:lakeml-dev-ingestion-dlq", id = "https://sqs.eu-west-1.amazonaws.com/123456789012/lakeml-dev-ingestion-dlq" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakeml-dev-mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-dev-ingestion" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/lakeml-dev-mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lakeml-dev-ingestion" }
  }
  mock_resource "aws_iam_policy" {
    defaults = { arn = "arn:aws:iam::123456789012:policy/lakeml-dev-model-approver" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:lakeml-dev-alerts" }
  }
  mock_resource "aws_sagemaker_model_package_group" {
    defaults = { arn = "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/lakeml-churn" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakeml-dev-daily-flow" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/lakeml-dev-dbt" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/lakeml-dev-dbt:1" }
  }
  mock_data "aws_vpc" {
    defaults = { cidr_block = "10.20.0.0/16" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0a1b2c3d4e5f67890" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:lakeml-dev-mock" }
  }
}

override_resource {
  target = module.monitoring.aws_sns_topic.alerts["warning"]
  values = { arn = "arn:aws:sns:eu-west-1:123456789012:lakeml-dev-warning" }
}

override_resource {
  target = module.monitoring.aws_sns_topic.alerts["critical"]
  values = { arn = "arn:aws:sns:eu-west-1:123456789012:lakeml-dev-critical" }
}

override_resource {
  target = module.notify.aws_lambda_function.function
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-dev-notify" }
}

override_resource {
  target = module.on_approval.aws_lambda_function.function
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-dev-on-approval" }
}

override_resource {
  target = module.deploy_staging.aws_lambda_function.function
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-dev-deploy-staging" }
}

override_resource {
  target = module.quality.aws_lambda_function.function
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-dev-quality" }
}

override_resource {
  target = module.lake.aws_s3_bucket.lake
  values = { id = "lakeml-dev-lake-123456789012-eu-west-1", arn = "arn:aws:s3:::lakeml-dev-lake-123456789012-eu-west-1" }
}

variables {
  env              = "dev"
  lambda_image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-dev-lambda:0a1b2c3"
  ml_image_uri     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-dev-ml:0a1b2c3"
}

run "ingestion_is_pointed_at_this_envs_lake_table_and_secret" {
  assert {
    condition = (
      output.ingestion_environment.LAKEML_AWS__LAKE_BUCKET == output.lake_bucket
      && output.ingestion_environment.LAKEML_AWS__WATERMARK_TABLE == output.watermark_table
      && output.ingestion_environment.LAKEML_SOURCE__SECRET_ID == output.source_secret_arn
    )
    error_message = "the Lambda's environment must name the bucket, table and secret this stack created"
  }
  assert {
    condition     = output.lake_bucket == "lakeml-dev-lake-123456789012-eu-west-1" && output.watermark_table == "lakeml-dev-watermarks"
    error_message = "names derive from lakeml-<env>"
  }
}

run "cli_environment_matches_the_lambdas" {
  assert {
    condition = alltrue([
      for name in ["LAKEML_ENV", "LAKEML_AWS__REGION", "LAKEML_AWS__LAKE_BUCKET", "LAKEML_AWS__WATERMARK_TABLE", "LAKEML_SOURCE__SECRET_ID"] :
      output.lakeml_env[name] == output.ingestion_environment[name]
    ])
    error_message = "lakeml_env must give the CLI the same settings the Lambda runs with"
  }
  assert {
    condition     = output.lakeml_env.LAKEML_AWS__ACCOUNT_ID == "123456789012" && output.lakeml_env.LAKEML_AWS__IMAGE_URI == var.ml_image_uri
    error_message = "lakeml_env must carry the account and image the SageMaker pipeline definition uses"
  }
  assert {
    condition     = toset(keys(output.glue_databases)) == toset(["bronze", "silver", "gold", "quarantine", "predictions"])
    error_message = "one Glue database per layer, and predictions"
  }
  assert {
    condition     = module.glue.database_locations.quarantine == "s3://${output.lake_bucket}/quarantine/dbt/" && module.glue.database_locations.silver == "s3://${output.lake_bucket}/silver/"
    error_message = "each layer database is where dbt's lake_layout.sql puts the schema (quarantine: quarantine/dbt, beside ingestion's quarantine/<table>/)"
  }
  assert {
    condition = (
      output.lakeml_env.LAKEML_AWS__STATE_MACHINE_ARN == output.state_machine_arn
      && output.lakeml_env.LAKEML_AWS__WARNING_TOPIC_ARN == output.warning_topic_arn
      && output.lakeml_env.LAKEML_AWS__CRITICAL_TOPIC_ARN == output.critical_topic_arn
      && output.warning_topic_arn != output.critical_topic_arn
      && output.lakeml_env.LAKEML_AWS__DEPLOY_FUNCTION_ARN == output.function_arns.deploy-staging
    )
    error_message = "lakeml_env names the state machine, the two distinct topics and the deploy Lambda the pipeline invokes"
  }
}

run "the_parts_are_wired_to_each_other" {
  assert {
    condition = (
      strcontains(module.flow.state_machine_definition, output.function_arns.ingestion)
      && strcontains(module.flow.state_machine_definition, output.function_arns.quality)
      && strcontains(module.flow.state_machine_definition, output.function_arns.notify)
      && strcontains(module.flow.state_machine_definition, output.dbt_task.task_definition_arn)
    )
    error_message = "the state machine calls this env's Lambdas and dbt task"
  }
  assert {
    condition     = module.notify.environment.LAKEML_AWS__WARNING_TOPIC_ARN == output.warning_topic_arn && module.notify.environment.LAKEML_AWS__CRITICAL_TOPIC_ARN == output.critical_topic_arn
    error_message = "the notify Lambda publishes to this env's two topics"
  }
  assert {
    condition     = module.on_approval.environment.LAKEML_AWS__SAGEMAKER_ROLE_ARN == output.sagemaker_execution_role_arn && module.deploy_staging.environment.LAKEML_AWS__LAKE_BUCKET == output.lake_bucket
    error_message = "the deploy Lambdas create models with the execution role and read this env's lake"
  }
  assert {
    condition     = module.ingestion.reserved_concurrency >= module.flow.max_map_concurrency
    error_message = "the ingestion Lambda must run as many tables at once as the flow's Map sends, or they are throttled"
  }
  assert {
    condition     = toset(keys(output.image_repositories)) == toset(["ml", "lambda"])
    error_message = "an ECR repository per image"
  }
}

run "prod_names_derive_from_lakeml_prod" {
  variables {
    env                     = "prod"
    approver_principal_arns = ["arn:aws:iam::123456789012:role/data-science-lead"]
  }
  assert {
    condition     = output.lake_bucket != null && output.watermark_table == "lakeml-prod-watermarks"
    error_message = "prod names derive from lakeml-prod"
  }
}

run "rejects_an_unknown_env" {
  command = plan
  variables {
    env = "qa"
  }
  expect_failures = [var.env]
}

run "prod_refuses_throwaway" {
  command = plan
  variables {
    env                     = "prod"
    throwaway               = true
    approver_principal_arns = ["arn:aws:iam::123456789012:role/data-science-lead"]
  }
  expect_failures = [var.throwaway]
}

run "staging_and_prod_need_named_approvers" {
  command = plan
  variables {
    env = "staging"
  }
  expect_failures = [var.approver_principal_arns]
}

run "dev_without_approvers_has_no_approver_role" {
  assert {
    condition     = output.model_approver_role_arn == null
    error_message = "no named approvers (dev): no approver role, never one the whole account may assume"
  }
}

run "sagemaker_code_gets_the_cmk" {
  assert {
    condition = (
      output.lakeml_env.LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN == output.kms_key_arn
      && module.on_approval.environment.LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN == output.kms_key_arn
      && module.deploy_staging.environment.LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN == output.kms_key_arn
    )
    error_message = "the pipeline definition (lakeml_env) and the deploy Lambdas encrypt jobs and endpoints with the env's CMK"
  }
  assert {
    condition     = !contains(keys(output.lakeml_env), "LAKEML_AWS__SAGEMAKER_SUBNET_IDS") && module.ingestion.vpc_config == null && module.notify.vpc_config == null
    error_message = "without private_networking nothing runs in a VPC"
  }
  assert {
    condition     = output.audit.trail_arn != null && output.audit.access_analyzer_arn != null
    error_message = "every env has the CloudTrail trail, and the Access Analyzer unless switched off"
  }
}

run "private_networking_needs_a_vpc" {
  command = plan
  variables {
    private_networking = true
  }
  expect_failures = [var.private_networking]
}

run "private_networking_puts_the_runtimes_in_the_private_subnets" {
  variables {
    env                     = "staging"
    approver_principal_arns = ["arn:aws:iam::123456789012:role/data-science-lead"]
    private_networking      = true
    vpc_id                  = "vpc-0a1b2c3d4e5f67890"
    route_table_ids         = ["rtb-0a1b2c3d4e5f67890"]
    subnet_ids              = ["subnet-0a1b2c3d4e5f67890", "subnet-0f9e8d7c6b5a43210"]
  }
  assert {
    condition = alltrue([
      for config in [module.ingestion.vpc_config, module.notify.vpc_config, module.quality.vpc_config, module.on_approval.vpc_config, module.deploy_staging.vpc_config] :
      tolist(config.subnet_ids) == tolist(var.subnet_ids) && tolist(config.security_group_ids) == tolist([module.network.runtime_security_group_id])
    ])
    error_message = "every Lambda runs in the private subnets, in the runtimes security group"
  }
  assert {
    condition = (
      tolist(jsondecode(output.lakeml_env.LAKEML_AWS__SAGEMAKER_SUBNET_IDS)) == tolist(var.subnet_ids)
      && tolist(jsondecode(output.lakeml_env.LAKEML_AWS__SAGEMAKER_SECURITY_GROUP_IDS)) == tolist([module.network.runtime_security_group_id])
      && module.deploy_staging.environment.LAKEML_AWS__SAGEMAKER_SUBNET_IDS == output.lakeml_env.LAKEML_AWS__SAGEMAKER_SUBNET_IDS
    )
    error_message = "SageMaker jobs (pipeline definition) and the deploy Lambdas' models get the same subnets and security group"
  }
  assert {
    condition     = alltrue([for service in ["s3", "dynamodb"] : contains(keys(module.network.gateway_endpoint_ids), service)]) && alltrue([for service in ["sts", "logs", "secretsmanager", "sagemaker.api", "sagemaker.runtime", "glue", "sns", "states", "monitoring", "ecr.api", "ecr.dkr"] : contains(keys(module.network.interface_endpoint_ids), service)])
    error_message = "the private subnets reach AWS through the gateway and interface endpoints the runtimes call"
  }
}
