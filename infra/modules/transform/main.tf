# dbt on ECS Fargate: the daily flow's transform stage (`ecs:runTask.sync`) runs the ML image's
# `lakeml transform --json` with LAKEML_TRANSFORM__TARGET=glue. The container itself is light: dbt-glue
# opens an AWS Glue interactive session as the Glue role (infra/modules/glue), which does the Spark work;
# this task's role only drives the session, reads the catalog, reads the bronze visibility index and
# publishes dbt's run_results under runs/dbt/ (lakeml/transform/runs.py).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  name       = "${var.name_prefix}-dbt"
  glue_arn   = "arn:${local.partition}:glue:${local.region}:${local.account_id}"

  # <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> -> the repository ARN the execution role pulls from
  image_parts    = regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([a-z0-9._/-]+?)(?::[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image_uri)
  repository_arn = "arn:${local.partition}:ecr:${local.image_parts[1]}:${local.image_parts[0]}:repository/${local.image_parts[2]}"

  environment = merge(var.environment, {
    LAKEML_ENV                = "aws"
    LAKEML_HOME               = "/tmp/lakeml"
    LAKEML_AWS__REGION        = local.region
    LAKEML_AWS__LAKE_BUCKET   = var.lake_bucket_name
    LAKEML_AWS__GLUE_ROLE_ARN = var.glue_role_arn
    LAKEML_TRANSFORM__TARGET  = "glue"
  })
}

resource "aws_ecs_cluster" "dbt" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "dbt" {
  # checkov:skip=CKV_AWS_338:retention is per env (log_retention_days); dbt's run results live in the lake
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_ecs_task_definition" "dbt" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory_mb
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = var.container_name
    image     = var.image_uri
    essential = true
    command   = var.command
    environment = [
      for name in sort(keys(local.environment)) : { name = name, value = local.environment[name] }
    ]
    user                   = "1000" # the ml image's unprivileged `lakeml` user (root stays for SageMaker jobs)
    readonlyRootFilesystem = false  # dbt writes target/ and logs/ next to the project
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.dbt.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "dbt"
      }
    }
  }])
}

# Egress only, HTTPS only: the task calls AWS APIs (Glue, S3, ECR, Logs) and starts no listener.
resource "aws_security_group" "dbt" {
  # checkov:skip=CKV2_AWS_5:attached at run time: the state machine's ecs:runTask passes it (dbt_security_groups_csv), which checkov cannot follow
  count = var.vpc_id == null ? 0 : 1

  name        = local.name
  description = "lakeml dbt task: HTTPS to AWS APIs, nothing inbound"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS to AWS APIs (through VPC endpoints or a NAT gateway)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# ------------------------------------------------------------------------------------ execution role

resource "aws_iam_role" "execution" {
  name        = "${local.name}-execution"
  description = "ECS pulls the lakeml ML image and ships the dbt task's logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "execution" {
  name = "least-privilege"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PullTheOneImage"
        Effect   = "Allow"
        Action   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
        Resource = local.repository_arn
      },
      {
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
      {
        Sid      = "TaskLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.dbt.arn}:*"
      },
    ]
  })
}

# ----------------------------------------------------------------------------------------- task role

resource "aws_iam_role" "task" {
  name        = "${local.name}-task"
  description = "lakeml transform in ECS: drives dbt-glue sessions, publishes run results to runs/dbt/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "task" {
  name   = "least-privilege"
  role   = aws_iam_role.task.id
  policy = jsonencode(local.task_policy)
}

# The Glue Data Catalog is encrypted with the lake key (module glue): reading and updating tables through
# Glue needs the key through Glue. A second inline policy: what the key needs, beside what the code calls.
resource "aws_iam_role_policy" "task_keys" {
  name = "keys"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CatalogKeyThroughGlue"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
      Resource  = var.kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "glue.${local.region}.amazonaws.com" } }
    }]
  })
}

locals {
  task_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # dbt-glue's connection: create (or reuse) a session, run statements, read results, close it.
        Sid      = "GlueInteractiveSessions"
        Effect   = "Allow"
        Action   = ["glue:CreateSession", "glue:GetSession", "glue:StopSession", "glue:DeleteSession", "glue:RunStatement", "glue:GetStatement", "glue:ListStatements", "glue:CancelStatement"]
        Resource = "${local.glue_arn}:session/*"
      },
      {
        # The session runs as the Glue role; nothing else may be passed, and only to Glue.
        Sid       = "PassTheGlueRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = var.glue_role_arn
        Condition = { StringEquals = { "iam:PassedToService" = "glue.amazonaws.com" } }
      },
      {
        # dbt-glue lists schemas and relations through the Glue API from the client (impl.py).
        Sid    = "CatalogRead"
        Effect = "Allow"
        Action = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables"]
        Resource = concat(
          ["${local.glue_arn}:catalog"],
          [for db in var.glue_databases : "${local.glue_arn}:database/${db}"],
          [for db in var.glue_databases : "${local.glue_arn}:table/${db}/*"],
        )
      },
      {
        # persist_docs updates table descriptions of the models dbt builds.
        Sid      = "CatalogDocsOfModels"
        Effect   = "Allow"
        Action   = "glue:UpdateTable"
        Resource = concat(["${local.glue_arn}:catalog"], [for db in var.model_databases : "${local.glue_arn}:database/${db}"], [for db in var.model_databases : "${local.glue_arn}:table/${db}/*"])
      },
      {
        # The build publishes runs/dbt/<invocation>/ and latest.json (lakeml/core/lake/runs.py write_json:
        # a temporary object, then a move = copy + delete on S3).
        Sid      = "LakeRunsAndVisibility"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = ["${var.lake_bucket_arn}/${var.runs_prefix}/dbt/*"]
      },
      {
        # `lakeml transform` republishes the bronze visibility index from the manifests before dbt reads
        # it (ingestion/visibility.py publish_visibility; put_atomically = temporary object + move), so a
        # crash between an ingestion commit and its index write cannot hide or resurrect a run.
        Sid      = "LakeVisibilityIndex"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = "${var.lake_bucket_arn}/${var.bronze_prefix}/_visible/*"
      },
      {
        # pyarrow's create_dir writes the empty folder markers of every parent on each write: bronze/ and
        # runs/ themselves (the folders below are covered above; found by tests/infra/emulator).
        Sid      = "LakeFolderMarkers"
        Effect   = "Allow"
        Action   = "s3:PutObject"
        Resource = ["${var.lake_bucket_arn}/${var.bronze_prefix}/", "${var.lake_bucket_arn}/${var.runs_prefix}/"]
      },
      {
        Sid      = "LakeReadManifests"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${var.lake_bucket_arn}/${var.bronze_prefix}/_manifests/*"
      },
      {
        Sid      = "LakeListRunsAndVisibility"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = var.lake_bucket_arn
        Condition = {
          StringLikeIfExists = { "s3:prefix" = ["${var.runs_prefix}/dbt/*", "${var.bronze_prefix}/_visible/*", "${var.bronze_prefix}/_visible", "${var.bronze_prefix}/_manifests/*", "${var.bronze_prefix}/_manifests"] }
        }
      },
      {
        Sid      = "LakeKeyThroughS3"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
        }
      },
    ]
  }
}

# Statements by id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  task_by_sid = { for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Sid => s }
}
