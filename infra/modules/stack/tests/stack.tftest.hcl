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
}

override_resource {
  target = module.lake.aws_s3_bucket.lake
  values = { id = "lakeml-dev-lake-123456789012-eu-west-1", arn = "arn:aws:s3:::lakeml-dev-lake-123456789012-eu-west-1" }
}

variables {
  env                 = "dev"
  ingestion_image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-ingestion:0a1b2c3"
  ml_image_uri        = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml:0a1b2c3"
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
    condition     = toset(keys(output.glue_databases)) == toset(["bronze", "silver", "gold", "quarantine"])
    error_message = "one Glue database per layer"
  }
}

run "prod_names_derive_from_lakeml_prod" {
  variables {
    env = "prod"
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
