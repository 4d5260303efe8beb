# The daily flow on AWS: the Step Functions state machine rendered from lakeml's one declaration of the
# stages (lakeml/flow, `lakeml flow definition --output daily_flow.asl.json`), and the EventBridge
# Scheduler schedule that starts it with the configured tables. The role may call exactly what the
# rendered states call: the three Lambdas, the dbt task (with `.sync`'s managed rule), the two pipelines
# and the model registry's list of approved versions.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  name       = "${var.name_prefix}-daily-flow"
  sm_arn     = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"

  lambda_arns = {
    ingest  = var.ingest_function_arn
    quality = var.quality_function_arn
    notify  = var.notify_function_arn
  }

  # The only placeholders the rendered ASL may hold (ISSUE 12); each is filled from this module's inputs.
  definition = templatefile(coalesce(var.definition_file, "${path.module}/daily_flow.asl.json"), {
    ingest_function_arn     = var.ingest_function_arn
    quality_function_arn    = var.quality_function_arn
    notify_function_arn     = var.notify_function_arn
    dbt_cluster_arn         = var.dbt_cluster_arn
    dbt_task_definition_arn = var.dbt_task_definition_arn
    dbt_container_name      = var.dbt_container_name
    dbt_subnets_csv         = join(",", var.dbt_subnet_ids)
    dbt_security_groups_csv = join(",", var.dbt_security_group_ids)
    training_pipeline_name  = var.training_pipeline_name
    scoring_pipeline_name   = var.scoring_pipeline_name
  })

  # The widest Map of the rendered flow: the ingestion Lambda needs at least this much concurrency, or
  # the Map's parallel tables are throttled (its retries back off for seconds, an ingestion takes minutes).
  max_map_concurrency = max(1, [for m in regexall("\"MaxConcurrency\"\\s*:\\s*([0-9]+)", file(coalesce(var.definition_file, "${path.module}/daily_flow.asl.json"))) : tonumber(m[0])]...)

  # StartPipelineExecution is authorised on the pipeline, DescribePipelineExecution on the execution.
  pipeline_arns  = [for name in [var.training_pipeline_name, var.scoring_pipeline_name] : "${local.sm_arn}:pipeline/${lower(name)}"]
  execution_arns = [for arn in local.pipeline_arns : "${arn}/execution/*"]
}

resource "aws_cloudwatch_log_group" "flow" {
  # checkov:skip=CKV_AWS_338:retention is per env (log_retention_days); run records live in the lake (runs/)
  name              = "/aws/vendedlogs/states/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_sfn_state_machine" "flow" {
  # checkov:skip=CKV_AWS_285:execution history is logged (level var.log_level) without execution data: inputs and outputs carry error causes already in the lake's run records, kept out of logs on purpose
  name       = local.name
  role_arn   = aws_iam_role.flow.arn
  type       = "STANDARD"
  definition = local.definition

  # Execution data (inputs, outputs) stays out of the logs: they carry table names and error causes
  # that are already in the lake's run records; the states' history keeps them for 90 days.
  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.flow.arn}:*"
    include_execution_data = false
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.flow]
}

# -------------------------------------------------------------------------------------------- role

resource "aws_iam_role" "flow" {
  name        = local.name
  description = "lakeml daily flow: ingest Lambdas, dbt on ECS, quality, SageMaker pipelines, notify"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "flow" {
  name   = "least-privilege"
  role   = aws_iam_role.flow.id
  policy = jsonencode(local.flow_policy)
}

locals {
  flow_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeTheFlowLambdas"
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = values(local.lambda_arns)
      },
      {
        Sid       = "RunTheDbtTask"
        Effect    = "Allow"
        Action    = "ecs:RunTask"
        Resource  = var.dbt_task_definition_arn
        Condition = { ArnEquals = { "ecs:cluster" = var.dbt_cluster_arn } }
      },
      {
        # runTask.sync follows the task it started and stops it when the state times out or is aborted.
        Sid       = "FollowTheDbtTask"
        Effect    = "Allow"
        Action    = ["ecs:DescribeTasks", "ecs:StopTask"]
        Resource  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/*"
        Condition = { ArnEquals = { "ecs:cluster" = var.dbt_cluster_arn } }
      },
      {
        Sid       = "PassTheDbtTaskRoles"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = var.dbt_task_role_arns
        Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
      {
        # `.sync` on ECS: Step Functions manages this one rule to learn when the task stops.
        Sid      = "SyncRuleForEcsTasks"
        Effect   = "Allow"
        Action   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
        Resource = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForECSTaskRule"
      },
      {
        Sid      = "StartThePipelines"
        Effect   = "Allow"
        Action   = "sagemaker:StartPipelineExecution"
        Resource = local.pipeline_arns
      },
      {
        # There is no `.sync` for pipelines: the flow polls the execution (Wait/Choice, bounded).
        Sid      = "PollThePipelineExecutions"
        Effect   = "Allow"
        Action   = "sagemaker:DescribePipelineExecution"
        Resource = local.execution_arns
      },
      {
        # Before scoring, the flow looks for an approved version of the group (no champion: notify).
        Sid      = "FindTheChampion"
        Effect   = "Allow"
        Action   = "sagemaker:ListModelPackages"
        Resource = [var.model_package_group_arn, "${replace(var.model_package_group_arn, ":model-package-group/", ":model-package/")}/*"]
      },
      {
        # Log delivery to CloudWatch Logs is configured through these account-level APIs (no resources).
        Sid    = "ExecutionLogDelivery"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ]
        Resource = "*"
      },
      {
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = "*"
      },
    ]
  }
}

# ---------------------------------------------------------------------------------------- schedule

# Off until the Snowflake secret holds a value (docs/aws.md): a run before that fails at the first table.
resource "aws_scheduler_schedule" "daily" {
  # checkov:skip=CKV_AWS_297:the schedule holds table names and pipeline parameters only, no data; a CMK here would add a key grant to the scheduler role for nothing secret
  name                         = local.name
  description                  = "Start the lakeml daily flow with the configured tables"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.flow.arn
    role_arn = aws_iam_role.scheduler.arn
    # pipeline_params as SageMaker's PipelineParameters list ({Name, Value}): the ASL passes it through
    # unchanged, as `lakeml run` sends it.
    input = jsonencode({
      tables          = var.tables
      pipeline_params = [for name in sort(keys(var.pipeline_params)) : { Name = name, Value = var.pipeline_params[name] }]
    })

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }
  }

  lifecycle {
    precondition {
      condition     = !var.schedule_enabled || length(var.dbt_subnet_ids) > 0
      error_message = "The daily flow is scheduled but dbt_subnet_ids is empty: the transform stage's Fargate task needs private subnets (stack variable subnet_ids). Set them, or leave the schedule off."
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name        = "${local.name}-scheduler"
  description = "EventBridge Scheduler starts the lakeml daily flow"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  name = "start-the-flow"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartTheFlow"
      Effect   = "Allow"
      Action   = "states:StartExecution"
      Resource = aws_sfn_state_machine.flow.arn
    }]
  })
}

# Statements by id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  flow_by_sid = { for s in jsondecode(aws_iam_role_policy.flow.policy).Statement : s.Sid => s }
}
