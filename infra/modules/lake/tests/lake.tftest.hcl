# Offline: a mocked AWS provider with realistic ARNs; every run applies against the mock, then reads back
# the exact JSON and settings Terraform would send to AWS.

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
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }
}

override_resource {
  target = aws_s3_bucket.lake
  values = { id = "lakeml-test-lake-123456789012-eu-west-1", arn = "arn:aws:s3:::lakeml-test-lake-123456789012-eu-west-1" }
}

override_resource {
  target = aws_s3_bucket.logs
  values = { id = "lakeml-test-lake-123456789012-eu-west-1-logs", arn = "arn:aws:s3:::lakeml-test-lake-123456789012-eu-west-1-logs" }
}

variables {
  name_prefix = "lakeml-test"
}

run "bucket_name_is_unique_per_account_and_region" {
  assert {
    condition     = local.bucket_name == "lakeml-test-lake-123456789012-eu-west-1"
    error_message = "derived bucket name is ${local.bucket_name}"
  }
  assert {
    condition     = length(local.log_bucket_name) <= 63
    error_message = "log bucket name ${local.log_bucket_name} is longer than S3 allows"
  }
}

run "lake_denies_requests_without_tls" {
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.lake.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*"
      && try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
      && toset(flatten([s.Resource])) == toset([aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"])
    ])
    error_message = "the lake bucket policy must deny s3:* on the bucket and its objects when aws:SecureTransport is false"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.lake.policy).Statement :
      s.Effect == "Deny" && try(s.Condition.NumericLessThan["s3:TlsVersion"], "") == "1.2"
    ])
    error_message = "the lake bucket policy must deny TLS older than 1.2"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_s3_bucket_policy.lake.policy).Statement : s.Effect == "Deny"
    ])
    error_message = "the lake bucket policy must only deny; access is granted by the roles' IAM policies"
  }
}

run "lake_only_denies_puts_that_ask_for_another_encryption" {
  assert {
    condition = (
      local.by_sid.DenyEncryptionOtherThanKms.Condition.Null["s3:x-amz-server-side-encryption"] == "false"
      && local.by_sid.DenyEncryptionOtherThanKms.Condition.StringNotEquals["s3:x-amz-server-side-encryption"] == "aws:kms"
    )
    error_message = "the SSE deny must be limited to requests that carry the header (Null = false), else headerless writes are refused"
  }
}

run "lake_is_encrypted_with_the_rotating_cmk" {
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.lake.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "lake default encryption must be SSE-KMS"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.lake.rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.lake.arn
    error_message = "lake default encryption must use the lake CMK"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.lake.rule).bucket_key_enabled == true
    error_message = "S3 bucket keys must be on (one KMS call per bucket key, not per part)"
  }
  assert {
    condition     = aws_kms_key.lake.enable_key_rotation && aws_kms_key.lake.deletion_window_in_days == 30
    error_message = "the CMK must rotate and wait 30 days before deletion by default"
  }
  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "kms_key_arn output must be the key's ARN"
  }
}

run "lake_is_private_versioned_and_acl_free" {
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.lake.block_public_acls,
      aws_s3_bucket_public_access_block.lake.block_public_policy,
      aws_s3_bucket_public_access_block.lake.ignore_public_acls,
      aws_s3_bucket_public_access_block.lake.restrict_public_buckets,
    ])
    error_message = "every public access block setting must be on"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.lake.versioning_configuration).status == "Enabled"
    error_message = "lake versioning must be enabled"
  }
  assert {
    condition     = one(aws_s3_bucket_ownership_controls.lake.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)"
  }
  assert {
    condition     = aws_s3_bucket.lake.force_destroy == false
    error_message = "the lake must not be force-destroyable by default"
  }
}

run "quarantine_and_logs_expire" {
  variables {
    quarantine_retention_days = 45
  }
  assert {
    condition = (
      local.lake_rules["expire-quarantine"].status == "Enabled"
      && one(local.lake_rules["expire-quarantine"].filter).prefix == "quarantine/"
      && one(local.lake_rules["expire-quarantine"].expiration).days == 45
    )
    error_message = "quarantine/ must expire after quarantine_retention_days"
  }
  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.lake.rule :
      r.status == "Enabled" && length(r.abort_incomplete_multipart_upload) == 1
    ])
    error_message = "incomplete multipart uploads (killed writers) must be aborted"
  }
  assert {
    condition = alltrue([
      for r in aws_s3_bucket_lifecycle_configuration.lake.rule :
      !((one(r.filter).prefix == null || one(r.filter).prefix == "") && length(r.expiration) > 0)
    ])
    error_message = "no lifecycle rule may expire current objects across the whole lake"
  }
  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.logs.rule).expiration).days == 365
    error_message = "access logs must expire after access_log_retention_days"
  }
  assert {
    condition     = aws_s3_bucket_logging.lake.target_bucket == aws_s3_bucket.logs.id
    error_message = "the lake's access logs must go to the log bucket"
  }
}

run "access_log_bucket_accepts_only_the_lakes_logs" {
  assert {
    condition = (
      local.log_policy.S3ServerAccessLogsFromTheLake.Principal.Service == "logging.s3.amazonaws.com"
      && local.log_policy.S3ServerAccessLogsFromTheLake.Condition.ArnLike["aws:SourceArn"] == aws_s3_bucket.lake.arn
      && local.log_policy.S3ServerAccessLogsFromTheLake.Condition.StringEquals["aws:SourceAccount"] == "123456789012"
      && local.log_policy.S3ServerAccessLogsFromTheLake.Resource == "${aws_s3_bucket.logs.arn}/${aws_s3_bucket_logging.lake.target_prefix}*"
    )
    error_message = "only S3 logging for the lake bucket of this account may write to the log bucket"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.logs.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "the log bucket must use SSE-S3: server access logging cannot deliver to SSE-KMS buckets"
  }
}

run "object_arns_name_each_layer" {
  assert {
    condition     = output.object_arns.bronze == "arn:aws:s3:::lakeml-test-lake-123456789012-eu-west-1/bronze/*"
    error_message = "object_arns.bronze is ${output.object_arns.bronze}"
  }
  assert {
    condition     = toset(keys(output.prefixes)) == toset(["bronze", "silver", "gold", "quarantine", "predictions", "ml", "registry", "runs", "features"])
    error_message = "prefixes must name every layer of the lake"
  }
}

run "rejects_a_name_prefix_s3_would_refuse" {
  command = plan
  variables {
    name_prefix = "LakeML_Dev"
  }
  expect_failures = [var.name_prefix]
}
