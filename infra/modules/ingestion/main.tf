# The ingestion Lambda (lakeml/handlers/ingest.py): Snowflake -> bronze + quarantine, watermarks in DynamoDB,
# credentials from Secrets Manager. EventBridge invokes it asynchronously on a schedule; an invocation that
# still fails after Lambda's retries lands, with its event and error, in an encrypted SQS queue from which
# it can be re-driven (runs are idempotent).

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  function_name = "${var.name_prefix}-ingestion"
  region        = data.aws_region.current.name
  partition     = data.aws_partition.current.partition
  secret_arn    = coalesce(var.source_secret_arn, one(aws_secretsmanager_secret.source[*].arn))

  # What the handler writes: bronze/<table>/..., bronze/_manifests/<table>/<run>.json,
  # bronze/_visible/<table>.json, quarantine/<table>/...
  writable_prefixes = [var.bronze_prefix, var.quarantine_prefix]
  writable_objects  = [for prefix in local.writable_prefixes : "${var.lake_bucket_arn}/${prefix}/*"]
}

# ------------------------------------------------------------------------------------------- secret

# Created empty: the value (account, user, private_key, ...) is put with the CLI, never through Terraform,
# so no credential ever lands in the state. See docs/infra.md.
resource "aws_secretsmanager_secret" "source" {
  # checkov:skip=CKV2_AWS_57:Snowflake key-pair rotation needs a rotation function that is not built yet (docs/infra.md)
  count = var.source_secret_arn == null ? 1 : 0

  name                    = "${var.name_prefix}/snowflake"
  description             = "Snowflake credentials of lakeml ingestion (JSON: account, user, private_key, ...)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# -------------------------------------------------------------------------------------- dead letters

resource "aws_sqs_queue" "dlq" {
  name                              = "${local.function_name}-dlq"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum: time to notice, fix and re-drive
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.dlq.arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

# -------------------------------------------------------------------------------------------- logs

# Created here (not by Lambda on first run) so it has a retention and the CMK, and Terraform owns it.
resource "aws_cloudwatch_log_group" "function" {
  # checkov:skip=CKV_AWS_338:retention is per env (log_retention_days); run history lives in the lake manifests, not in logs
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# ---------------------------------------------------------------------------------------- function

# In a VPC, Lambda creates and deletes the function's network interfaces as this role (the AWS managed
# policy for exactly that: ec2:*NetworkInterface* on "*", which has no narrower resource form).
resource "aws_iam_role_policy_attachment" "vpc" {
  count      = var.vpc_config == null ? 0 : 1
  role       = aws_iam_role.ingestion.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "ingestion" {
  # checkov:skip=CKV_AWS_116:failed async events go to the on-failure destination (the SQS queue below, with the error); a dead_letter_config would be a second copy without it
  # checkov:skip=CKV_AWS_117:vpc_config is set when the stack's private_networking is on (staging, prod); dev runs outside a VPC
  # checkov:skip=CKV_AWS_272:Lambda code signing applies to .zip packages only, not container images
  # checkov:skip=CKV_AWS_173:the environment holds names only (the credentials are in Secrets Manager); Lambda encrypts it at rest
  function_name = local.function_name
  description   = "lakeml ingestion: Snowflake -> s3://${var.lake_bucket_name}/${var.bronze_prefix}/"
  role          = aws_iam_role.ingestion.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = ["x86_64"]
  memory_size   = var.memory_mb
  timeout       = var.timeout_seconds

  reserved_concurrent_executions = coalesce(var.reserved_concurrency, -1)

  image_config {
    command = var.image_command
  }

  environment {
    variables = {
      LAKEML_ENV                   = "aws"
      LAKEML_HOME                  = "/tmp/lakeml" # the only writable path in Lambda
      LAKEML_LOG_LEVEL             = var.log_level
      LAKEML_AWS__REGION           = local.region
      LAKEML_AWS__LAKE_BUCKET      = var.lake_bucket_name
      LAKEML_AWS__WATERMARK_TABLE  = var.watermark_table_name
      LAKEML_SOURCE__SECRET_ID     = local.secret_arn
      POWERTOOLS_SERVICE_NAME      = "lakeml-ingestion"
      POWERTOOLS_METRICS_NAMESPACE = "lakeml/ingestion"
      POWERTOOLS_LOG_LEVEL         = var.log_level
    }
  }

  tracing_config {
    mode = "Active"
  }

  # In private subnets the function reaches AWS through the network module's endpoints and Snowflake
  # through the subnets' NAT gateway (or a PrivateLink endpoint): the security group allows HTTPS out only.
  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.ingestion, aws_iam_role_policy_attachment.vpc]
}

resource "aws_lambda_function_event_invoke_config" "ingestion" {
  function_name                = aws_lambda_function.ingestion.function_name
  maximum_retry_attempts       = var.max_retry_attempts
  maximum_event_age_in_seconds = var.max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}

# ---------------------------------------------------------------------------------------- schedule

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = "${local.function_name}-schedule"
  description         = "Start lakeml ingestion of every configured table"
  schedule_expression = var.schedule_expression
  state               = var.schedule_enabled ? "ENABLED" : "DISABLED"
}

# A scheduled event's `detail` is {}, which the handler reads as "every table".
resource "aws_cloudwatch_event_target" "schedule" {
  rule = aws_cloudwatch_event_rule.schedule.name
  arn  = aws_lambda_function.ingestion.arn
}

resource "aws_lambda_permission" "schedule" {
  statement_id  = "AllowEventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.ingestion.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule.arn
}

# -------------------------------------------------------------------------------------------- role

resource "aws_iam_role" "ingestion" {
  name        = local.function_name
  description = "lakeml ingestion Lambda: writes bronze and quarantine only"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "ingestion" {
  name   = "least-privilege"
  role   = aws_iam_role.ingestion.id
  policy = jsonencode(local.ingestion_policy)
}

locals {
  ingestion_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # Objects under bronze/ (incl. bronze/_manifests/) and quarantine/ only. Delete is needed: a re-run
        # of a window first empties its run folders, and the manifest is committed by a copy of its
        # temporary name followed by a delete (pyarrow's move on S3). Versioning keeps what was deleted.
        Sid      = "LakeObjectsBronzeQuarantine"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = local.writable_objects
      },
      {
        # Listing under the same prefixes. `IfExists`: pyarrow's create_dir calls HeadBucket, which is
        # authorised as s3:ListBucket and carries no prefix; object access stays prefix-scoped above.
        Sid      = "LakeListBronzeQuarantine"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = var.lake_bucket_arn
        Condition = {
          StringLikeIfExists = { "s3:prefix" = [for prefix in local.writable_prefixes : "${prefix}/*"] }
        }
      },
      {
        # Read and conditionally advance the watermarks (a conditional PutItem: ingestion/watermarks/
        # dynamo.py); no UpdateItem, no Scan, no Delete, no other table.
        Sid      = "WatermarkTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem"]
        Resource = var.watermark_table_arn
      },
      {
        Sid      = "SourceSecret"
        Effect   = "Allow"
        Action   = "secretsmanager:GetSecretValue"
        Resource = local.secret_arn
      },
      {
        # The CMK, and only when used by the services above on this role's behalf.
        Sid      = "LakeKeyThroughServices"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = {
            "kms:ViaService" = [for service in ["s3", "dynamodb", "secretsmanager", "sqs"] : "${service}.${local.region}.amazonaws.com"]
          }
        }
      },
      {
        # Lambda sends a failed asynchronous event to the on-failure destination as the function's role.
        Sid      = "FailureDestination"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = aws_sqs_queue.dlq.arn
      },
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
    ]
  }
}

# The role's statements by id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  policy_by_sid = { for s in jsondecode(aws_iam_role_policy.ingestion.policy).Statement : s.Sid => s }
}
