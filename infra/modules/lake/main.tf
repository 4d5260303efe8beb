# The S3 lake: one bucket, one prefix per layer, encrypted with a customer managed key (CMK) that the other
# modules reuse (DynamoDB, SQS, SNS, Secrets Manager, logs), so access to lake data is also governed by who
# may use this key. A second bucket receives the lake's S3 access logs.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  bucket_name       = coalesce(var.bucket_name, "${var.name_prefix}-lake-${local.account_id}-${local.region}")
  log_bucket_name   = "${substr(local.bucket_name, 0, 58)}-logs"
  access_log_prefix = "s3-access/${local.bucket_name}/"

  # The lake layout (lakeml/core/lake/, ingestion/landing.py). Every IAM policy in infra/ builds its S3
  # resources from these names, so a prefix is spelled once.
  prefixes = {
    bronze      = "bronze"        # raw landed rows + _manifests (ingestion)
    silver      = "silver"        # cleaned, deduplicated tables (dbt)
    gold        = "gold"          # features and training sets (dbt)
    quarantine  = "quarantine"    # rejected rows with reasons (ingestion, dbt store_failures)
    predictions = "predictions"   # batch scores (SageMaker transform)
    ml          = "ml"            # pipeline executions and tuning output (SageMaker)
    registry    = "registry"      # approval history of model versions (ml_pipelines/registry.py)
    runs        = "runs"          # the flow's run records: runs/dbt/ (transform), runs/quality/ (monitor)
    features    = "feature_store" # SageMaker Feature Store offline store (lake.uri_of("feature_store"))
  }
}

# ---------------------------------------------------------------------------------------------- key

resource "aws_kms_key" "lake" {
  description             = "${var.name_prefix}: lake data, watermarks, queues, topics and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.key_policy)
}

resource "aws_kms_alias" "lake" {
  name          = "alias/${var.name_prefix}-lake"
  target_key_id = aws_kms_key.lake.key_id
}

locals {
  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # The account owns the key; IAM policies (the roles in infra/) then decide who may use it.
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs encrypts the lakeml log groups with this key; only for log groups of this account.
        Sid       = "CloudWatchLogsEncryptsLakemlLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
          }
        }
      },
      {
        # CloudWatch alarms publish to the encrypted SNS topic; SNS asks KMS on the alarm service's behalf.
        Sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  }
}

# --------------------------------------------------------------------------------------------- lake

resource "aws_s3_bucket" "lake" {
  # checkov:skip=CKV2_AWS_62:nothing consumes object events yet; Step Functions orchestrates the flow
  # checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery decision not taken yet (docs/infra.md)
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced" # no ACLs: access is IAM and the bucket policy only
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled" # an overwritten part or manifest can be recovered for noncurrent_version_retention_days
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.lake.arn
    }
    # One data key per bucket instead of one KMS call per object: ingestion writes many small parts.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    id     = "expire-quarantine"
    status = "Enabled"
    filter {
      prefix = "${local.prefixes.quarantine}/"
    }
    expiration {
      days = var.quarantine_retention_days
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
  }

  rule {
    # pyarrow writes every object as a multipart upload; a killed run must not leave parts billed forever.
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.lake]
}

resource "aws_s3_bucket_policy" "lake" {
  bucket = aws_s3_bucket.lake.id
  policy = jsonencode(local.lake_bucket_policy)

  # The public access block must exist first, else a race can briefly leave the bucket unguarded.
  depends_on = [aws_s3_bucket_public_access_block.lake]
}

locals {
  lake_bucket_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyTlsOlderThan12"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
        Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
      },
      {
        # Writers send no encryption header (the bucket default, the CMK, applies). A writer that asks for
        # another algorithm (SSE-S3) would store data outside the CMK's control. `Null = false` limits the
        # deny to requests that carry the header: a negated operator alone is true when the key is absent.
        Sid       = "DenyEncryptionOtherThanKms"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.lake.arn}/*"
        Condition = {
          Null            = { "s3:x-amz-server-side-encryption" = "false" }
          StringNotEquals = { "s3:x-amz-server-side-encryption" = "aws:kms" }
        }
      },
    ]
  }
}

resource "aws_s3_bucket_logging" "lake" {
  bucket        = aws_s3_bucket.lake.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = local.access_log_prefix

  # S3 checks at PutBucketLogging that the target's policy lets the logging service write (ACLs are off).
  depends_on = [aws_s3_bucket_policy.logs]
}

# --------------------------------------------------------------------------------------- access logs
# S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS, so this bucket uses SSE-S3.
# It holds request metadata only (who read or wrote which key), never lake data.

resource "aws_s3_bucket" "logs" {
  # checkov:skip=CKV2_AWS_62:access logs have no consumers that need events
  # checkov:skip=CKV_AWS_144:access logs are not replicated
  # checkov:skip=CKV_AWS_145:S3 server access logging cannot deliver to an SSE-KMS bucket; SSE-S3 is used
  bucket        = local.log_bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Only the S3 logging service, only for the lake bucket of this account, only under its prefix.
        Sid       = "S3ServerAccessLogsFromTheLake"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.logs.arn}/${local.access_log_prefix}*"
        Condition = {
          ArnLike      = { "aws:SourceArn" = aws_s3_bucket.lake.arn }
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# Policies by statement id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  by_sid     = { for s in local.lake_bucket_policy.Statement : s.Sid => s }
  log_policy = { for s in jsondecode(aws_s3_bucket_policy.logs.policy).Statement : s.Sid => s }
}

locals {
  lake_rules = { for r in aws_s3_bucket_lifecycle_configuration.lake.rule : r.id => r }
}
