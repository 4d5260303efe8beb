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
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::lakeml-test-trail-123456789012-eu-west-1" }
  }
}

variables {
  name_prefix     = "lakeml-test"
  lake_bucket_arn = "arn:aws:s3:::lakeml-test-lake"
}

run "a_validated_multi_region_trail_under_its_own_rotating_key" {
  assert {
    condition     = aws_cloudtrail.trail.is_multi_region_trail && aws_cloudtrail.trail.include_global_service_events
    error_message = "the trail covers every region and IAM/STS (global) events"
  }
  assert {
    condition     = aws_cloudtrail.trail.enable_log_file_validation
    error_message = "log file validation (digest files) is on, so a changed or deleted log file shows"
  }
  assert {
    condition     = aws_cloudtrail.trail.kms_key_id == aws_kms_key.audit.arn && aws_kms_key.audit.enable_key_rotation
    error_message = "log files are encrypted with the audit CMK, which rotates"
  }
  assert {
    condition     = local.key_policy_by_sid.CloudTrailEncryptsThisTrail.Condition.StringEquals["aws:SourceArn"] == "arn:aws:cloudtrail:eu-west-1:123456789012:trail/lakeml-test-trail"
    error_message = "CloudTrail may use the key for this trail only"
  }
}

run "the_trail_records_the_lakes_data_events" {
  assert {
    condition = anytrue([
      for selector in aws_cloudtrail.trail.event_selector : selector.read_write_type == "All" && selector.include_management_events && anytrue([
        for resource in selector.data_resource : resource.type == "AWS::S3::Object" && contains(resource.values, "arn:aws:s3:::lakeml-test-lake/")
      ])
    ])
    error_message = "every object read and write in the lake (and the management events) is recorded"
  }
}

run "the_trail_bucket_is_private_tls_only_and_encrypted" {
  assert {
    condition     = local.bucket_policy_by_sid.DenyInsecureTransport.Effect == "Deny" && local.bucket_policy_by_sid.DenyInsecureTransport.Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "requests without TLS are denied"
  }
  assert {
    condition     = local.bucket_policy_by_sid.DenyTlsBelow12.Condition.NumericLessThan["s3:TlsVersion"] == "1.2"
    error_message = "TLS below 1.2 is denied"
  }
  assert {
    condition = (
      local.bucket_policy_by_sid.CloudTrailWritesThisTrail.Resource == "arn:aws:s3:::lakeml-test-trail-123456789012-eu-west-1/AWSLogs/123456789012/*"
      && local.bucket_policy_by_sid.CloudTrailWritesThisTrail.Condition.StringEquals["aws:SourceArn"] == "arn:aws:cloudtrail:eu-west-1:123456789012:trail/lakeml-test-trail"
    )
    error_message = "only this trail writes, only under AWSLogs/<account>/"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.trail.block_public_policy && aws_s3_bucket_public_access_block.trail.restrict_public_buckets && aws_s3_bucket_public_access_block.trail.block_public_acls
    error_message = "the trail bucket is private"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.trail.rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.audit.arn
    error_message = "the trail bucket's default encryption is the audit key"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.trail.versioning_configuration).status == "Enabled"
    error_message = "the trail bucket is versioned"
  }
}

run "the_account_analyzer" {
  assert {
    condition     = aws_accessanalyzer_analyzer.account[0].type == "ACCOUNT" && aws_accessanalyzer_analyzer.account[0].analyzer_name == "lakeml-test-account"
    error_message = "IAM Access Analyzer watches the account"
  }
}

run "no_analyzer_where_switched_off" {
  variables {
    access_analyzer = false
  }
  assert {
    condition     = length(aws_accessanalyzer_analyzer.account) == 0 && output.access_analyzer_arn == null
    error_message = "access_analyzer = false creates none"
  }
}

run "audit_logs_are_kept_at_least_a_quarter" {
  command = plan
  variables {
    log_retention_days = 30
  }
  expect_failures = [var.log_retention_days]
}
