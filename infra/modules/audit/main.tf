# Audit: a multi-region CloudTrail trail with log file validation, encrypted with its own CMK (rotating),
# delivering to its own TLS-only bucket, with the lake bucket's object-level (data) events — who read or
# wrote which object; and the account's IAM Access Analyzer, which reports resources shared outside the
# account. Its own key, not the lake's: using lake data and reading the audit record are separate grants,
# and the record survives the lake key's deletion.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  trail_name  = "${var.name_prefix}-trail"
  trail_arn   = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}"
  bucket_name = "${var.name_prefix}-trail-${local.account_id}-${local.region}"
  log_prefix  = "AWSLogs/${local.account_id}"
}

# ---------------------------------------------------------------------------------------------- key

resource "aws_kms_key" "audit" {
  description             = "${var.name_prefix}: CloudTrail log files"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.key_policy)
}

resource "aws_kms_alias" "audit" {
  name          = "alias/${var.name_prefix}-audit"
  target_key_id = aws_kms_key.audit.key_id
}

locals {
  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # The account owns the key; IAM policies decide who may read the trail's log files.
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudTrail encrypts log files of this trail only.
        Sid       = "CloudTrailEncryptsThisTrail"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "kms:GenerateDataKey*"
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceArn" = local.trail_arn }
          StringLike   = { "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*" }
        }
      },
      {
        Sid       = "CloudTrailDescribesKey"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "kms:DescribeKey"
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
      },
    ]
  }
}

# --------------------------------------------------------------------------------------- trail bucket

resource "aws_s3_bucket" "trail" {
  # checkov:skip=CKV_AWS_18:this bucket holds audit logs; its own access logging would need yet another log bucket, and the trail records every API call on it
  # checkov:skip=CKV2_AWS_62:nothing consumes object events of trail log files
  # checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery decision not taken yet (docs/infra.md)
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    object_ownership = "BucketOwnerEnforced" # CloudTrail's bucket-owner-full-control ACL is accepted
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  bucket                  = aws_s3_bucket.trail.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "trail" {
  bucket = aws_s3_bucket.trail.id
  versioning_configuration {
    status = "Enabled" # an overwritten or deleted log file stays recoverable (and fails digest validation)
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.audit.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id

  rule {
    id     = "expire-log-files"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.trail]
}

resource "aws_s3_bucket_policy" "trail" {
  bucket = aws_s3_bucket.trail.id
  policy = jsonencode(local.bucket_policy)

  depends_on = [aws_s3_bucket_public_access_block.trail]
}

locals {
  bucket_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudTrailChecksTheAcl"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = aws_s3_bucket.trail.arn
        Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
      },
      {
        Sid       = "CloudTrailWritesThisTrail"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.trail.arn}/${local.log_prefix}/*"
        Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn, "s3:x-amz-acl" = "bucket-owner-full-control" } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.trail.arn, "${aws_s3_bucket.trail.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyTlsBelow12"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.trail.arn, "${aws_s3_bucket.trail.arn}/*"]
        Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
      },
    ]
  }
}

# --------------------------------------------------------------------------------------------- trail

resource "aws_cloudtrail" "trail" {
  # checkov:skip=CKV_AWS_252:no consumer of per-file delivery notifications; the log files are read from S3 (Athena) when needed
  # checkov:skip=CKV2_AWS_10:the record is the S3 log files (validated by digests); lakeml's alarms come from metrics, so a CloudWatch Logs copy would be cost without a reader
  name                          = local.trail_name
  s3_bucket_name                = aws_s3_bucket.trail.id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.audit.arn

  # Management events of the account, and every object-level read and write in the lake.
  event_selector {
    read_write_type           = "All"
    include_management_events = true

    data_resource {
      type   = "AWS::S3::Object"
      values = ["${var.lake_bucket_arn}/"]
    }
  }

  depends_on = [aws_s3_bucket_policy.trail]
}

# ---------------------------------------------------------------------------------------- access analyzer

resource "aws_accessanalyzer_analyzer" "account" {
  count = var.access_analyzer ? 1 : 0

  analyzer_name = "${var.name_prefix}-account"
  type          = "ACCOUNT"
}

# Policies by statement id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  key_policy_by_sid    = { for s in jsondecode(aws_kms_key.audit.policy).Statement : s.Sid => s }
  bucket_policy_by_sid = { for s in jsondecode(aws_s3_bucket_policy.trail.policy).Statement : s.Sid => s }
}
