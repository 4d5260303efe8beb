mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lakeml-test-notify" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakeml-test-notify" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test-notify" }
  }
}

variables {
  name_prefix = "lakeml-test"
  name        = "notify"
  handler     = "lakeml.handlers.notify.handler"
  description = "lakeml notifications"
  image_uri   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-test-lambda:0a1b2c3"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  environment = { LAKEML_AWS__WARNING_TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:lakeml-test-warning" }
  policy_statements = [{
    Sid      = "PublishAlerts"
    Effect   = "Allow"
    Action   = "sns:Publish"
    Resource = "arn:aws:sns:eu-west-1:123456789012:lakeml-test-warning"
  }]
}

run "runs_its_handler_from_the_lambda_image" {
  assert {
    condition = (
      aws_lambda_function.function.function_name == "lakeml-test-notify"
      && aws_lambda_function.function.package_type == "Image"
      && one(aws_lambda_function.function.image_config[0].command) == "lakeml.handlers.notify.handler"
    )
    error_message = "the function runs the image with image_config.command = its handler"
  }
  assert {
    condition = (
      aws_lambda_function.function.environment[0].variables.LAKEML_ENV == "aws"
      && aws_lambda_function.function.environment[0].variables.LAKEML_AWS__REGION == "eu-west-1"
      && aws_lambda_function.function.environment[0].variables.LAKEML_AWS__WARNING_TOPIC_ARN == var.environment.LAKEML_AWS__WARNING_TOPIC_ARN
    )
    error_message = "the environment selects the aws adapters and carries the given settings"
  }
}

run "traced_logged_and_encrypted" {
  assert {
    condition     = aws_lambda_function.function.tracing_config[0].mode == "Active" && aws_lambda_function.function.kms_key_arn == var.kms_key_arn
    error_message = "X-Ray active and the environment encrypted with the CMK"
  }
  assert {
    condition     = aws_cloudwatch_log_group.function.name == "/aws/lambda/lakeml-test-notify" && aws_cloudwatch_log_group.function.retention_in_days == 30 && aws_cloudwatch_log_group.function.kms_key_id == var.kms_key_arn
    error_message = "the log group has the function's name, a retention and the CMK"
  }
}

run "role_is_the_given_statements_plus_own_logs_and_tracing" {
  assert {
    condition     = toset(keys(local.policy_by_sid)) == toset(["PublishAlerts", "OwnLogs", "Tracing"])
    error_message = "nothing beyond what the handler calls, its logs and X-Ray"
  }
  assert {
    condition     = local.policy_by_sid.OwnLogs.Resource == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lakeml-test-notify:*"
    error_message = "logs: the function's own log group only"
  }
}

run "rejects_a_handler_outside_lakeml_handlers" {
  command = plan
  variables {
    handler = "os.system"
  }
  expect_failures = [var.handler]
}

run "outside_a_vpc_by_default" {
  assert {
    condition     = length(aws_lambda_function.function.vpc_config) == 0 && length(aws_iam_role_policy_attachment.vpc) == 0 && length(aws_iam_role_policy.keys) == 0
    error_message = "no vpc_config, no VPC, no network-interface grants; no key statements, no keys policy"
  }
}

run "in_private_subnets_with_private_networking" {
  variables {
    vpc_config = { subnet_ids = ["subnet-0a1b2c3d4e5f67890"], security_group_ids = ["sg-0a1b2c3d4e5f67890"] }
    key_statements = [{
      Sid      = "EndpointKeyGrants"
      Effect   = "Allow"
      Action   = "kms:CreateGrant"
      Resource = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }]
  }
  assert {
    condition     = tolist(one(aws_lambda_function.function.vpc_config).subnet_ids) == tolist(["subnet-0a1b2c3d4e5f67890"]) && tolist(one(aws_lambda_function.function.vpc_config).security_group_ids) == tolist(["sg-0a1b2c3d4e5f67890"])
    error_message = "the function runs in the given subnets and security group"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.vpc[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    error_message = "Lambda manages the function's network interfaces through the AWS managed VPC policy"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.keys[0].policy).Statement[0].Sid == "EndpointKeyGrants"
    error_message = "key statements go to the role's keys policy"
  }
}

run "a_vpc_config_needs_subnets_and_security_groups" {
  command = plan
  variables {
    vpc_config = { subnet_ids = [], security_group_ids = ["sg-0a1b2c3d4e5f67890"] }
  }
  expect_failures = [var.vpc_config]
}
