# Glue Data Catalog databases (one per lake layer, named as dbt's schemas, plus `predictions`) and the role
# Glue interactive sessions run as when dbt-glue builds silver and gold. dbt's on-run-start hook
# (dbt_project/macros/register_bronze.sql) registers bronze's tables and views and
# predictions.churn_scores_raw in the catalog: the role writes the catalog of every layer, but lake
# objects only in the layers dbt builds (never bronze or predictions, which ingestion and scoring write). The catalog is per account and region, so one env
# per account is assumed (database names carry no env prefix: dbt's schema names are the database names).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  role_name  = "${var.name_prefix}-glue"

  writable_layers = [for layer in keys(var.layers) : layer if !contains(var.read_only_layers, layer)]
  catalog_arn     = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  database_arn    = { for layer in keys(var.layers) : layer => "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${layer}" }
  table_arns      = { for layer in keys(var.layers) : layer => "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${layer}/*" }
}

resource "aws_glue_catalog_database" "layer" {
  for_each = var.layers

  name         = each.key
  description  = "lakeml ${each.key} layer"
  location_uri = "s3://${var.lake_bucket_name}/${each.value}/"
}

# Encrypts what sessions write outside the lake's default (shuffle spill to S3, CloudWatch logs, bookmarks)
# with the lake key. dbt-glue passes it as `security_configuration`.
resource "aws_glue_security_configuration" "sessions" {
  name = "${var.name_prefix}-dbt"

  encryption_configuration {
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
  }
}

# The account's Data Catalog (per region: one env per account) at rest under the lake key, and connection
# passwords encrypted too (returned encrypted by GetConnection). Every principal that reads the catalog
# then needs kms:Decrypt through Glue (writers also GenerateDataKey/Encrypt): the session role's key
# statement covers it, the dbt task and the SageMaker execution role have theirs in a `keys` policy.
resource "aws_glue_data_catalog_encryption_settings" "catalog" {
  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = var.kms_key_arn
    }
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = var.kms_key_arn
    }
  }
}

resource "aws_iam_role" "dbt" {
  name        = local.role_name
  description = "Glue interactive sessions of dbt-glue: read bronze, write silver/gold/quarantine"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "glue.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "dbt" {
  name   = "least-privilege"
  role   = aws_iam_role.dbt.id
  policy = jsonencode(local.dbt_policy)
}

locals {
  dbt_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "LakeReadAllLayers"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = [for layer, prefix in var.layers : "${var.lake_bucket_arn}/${prefix}/*"]
      },
      {
        # insert_overwrite rewrites partitions: put, delete and Spark's _temporary commit protocol.
        Sid      = "LakeWriteModelLayers"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = [for layer in local.writable_layers : "${var.lake_bucket_arn}/${var.layers[layer]}/*"]
      },
      {
        Sid      = "LakeListLayers"
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource = var.lake_bucket_arn
        Condition = {
          StringLikeIfExists = { "s3:prefix" = [for layer, prefix in var.layers : "${prefix}/*"] }
        }
      },
      {
        # Spark asks for the `default` database at start; reading it is harmless.
        Sid    = "CatalogRead"
        Effect = "Allow"
        Action = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:GetUserDefinedFunction", "glue:GetUserDefinedFunctions"]
        Resource = concat(
          [local.catalog_arn, "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/default"],
          values(local.database_arn),
          values(local.table_arns),
        )
      },
      {
        # Models in silver/gold/quarantine; in bronze the __parts/__empty/__files tables, the views over
        # them, _visible and MSCK REPAIR's partitions; predictions.churn_scores_raw (register_bronze.sql).
        Sid    = "CatalogWriteTables"
        Effect = "Allow"
        Action = [
          "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
          "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition",
          "glue:DeletePartition", "glue:BatchDeletePartition", "glue:BatchUpdatePartition",
        ]
        Resource = concat(
          [local.catalog_arn],
          values(local.database_arn),
          values(local.table_arns),
        )
      },
      {
        # register_bronze runs `create database if not exists bronze|predictions`; Spark's catalog client
        # calls CreateDatabase and ignores AlreadyExists, so the call must be allowed even though
        # Terraform created both.
        Sid    = "CatalogCreateRegisteredDatabases"
        Effect = "Allow"
        Action = "glue:CreateDatabase"
        Resource = concat(
          [local.catalog_arn],
          [for layer in var.registered_databases : local.database_arn[layer]],
        )
      },
      {
        Sid    = "LakeKeyThroughServices"
        Effect = "Allow"
        Action = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
        # Encrypt: the security configuration encrypts session logs and bookmarks as the session role.
        Resource = var.kms_key_arn
      },
      {
        # Glue names the session log groups itself (they include the security configuration's name when
        # logs are encrypted), so the grant is on the /aws-glue/ namespace of this account and region.
        Sid      = "SessionLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
        Resource = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"
      },
    ]
  }
}

# Statements by id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  dbt_by_sid = { for s in jsondecode(aws_iam_role_policy.dbt.policy).Statement : s.Sid => s }
}
