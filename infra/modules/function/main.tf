# One lakeml Lambda: the shared Lambda image with `image_config.command` naming its handler
# (lakeml/handlers/<name>.py), its own role holding exactly the statements the caller passes plus its own
# logs and X-Ray, a log group with a retention and the CMK, X-Ray active, the environment encrypted with
# the CMK. Every function of the stack is one instance, so they cannot drift apart in how they are run.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  function_name = "${var.name_prefix}-${var.name}"
  region        = data.aws_region.current.name
}

resource "aws_cloudwatch_log_group" "function" {
  # checkov:skip=CKV_AWS_338:retention is per env (log_retention_days); run history lives in the lake
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_iam_role" "function" {
  name        = local.function_name
  description = "lakeml ${var.name} Lambda (${var.handler})"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "function" {
  name   = "least-privilege"
  role   = aws_iam_role.function.id
  policy = jsonencode(local.policy)
}

locals {
  policy = {
    Version = "2012-10-17"
    Statement = concat(var.policy_statements, [
      {
        Sid      = "OwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.function.arn}:*"
      },
      {
        # X-Ray has no resource-level permissions for these actions.
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      },
    ])
  }
}

# In a VPC, Lambda creates and deletes the function's network interfaces as this role: the AWS managed
# policy for exactly that (ec2:*NetworkInterface* on "*", which has no narrower resource form).
resource "aws_iam_role_policy_attachment" "vpc" {
  count      = var.vpc_config == null ? 0 : 1
  role       = aws_iam_role.function.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy" "keys" {
  count  = length(var.key_statements) == 0 ? 0 : 1
  name   = "keys"
  role   = aws_iam_role.function.id
  policy = jsonencode({ Version = "2012-10-17", Statement = var.key_statements })
}

resource "aws_lambda_function" "function" {
  # checkov:skip=CKV_AWS_117:vpc_config is set when the stack's private_networking is on (staging, prod); dev runs outside a VPC
  # checkov:skip=CKV_AWS_272:Lambda code signing applies to .zip packages only, not container images
  # checkov:skip=CKV_AWS_116:synchronous callers (Step Functions, SageMaker) see the error; async ones retry
  function_name = local.function_name
  description   = var.description
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = ["x86_64"]
  memory_size   = var.memory_mb
  timeout       = var.timeout_seconds
  kms_key_arn   = var.kms_key_arn

  reserved_concurrent_executions = coalesce(var.reserved_concurrency, -1)

  image_config {
    command = [var.handler]
  }

  environment {
    variables = merge(var.environment, {
      LAKEML_ENV                   = "aws"
      LAKEML_HOME                  = "/tmp/lakeml" # the only writable path in Lambda
      LAKEML_LOG_LEVEL             = var.log_level
      LAKEML_AWS__REGION           = local.region
      POWERTOOLS_SERVICE_NAME      = "lakeml-${var.name}"
      POWERTOOLS_LOG_LEVEL         = var.log_level
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    })
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.function, aws_iam_role_policy_attachment.vpc]
}

# Statements by id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  policy_by_sid = { for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Sid => s }
}
