output "trail_arn" {
  description = "ARN of the CloudTrail trail."
  value       = aws_cloudtrail.trail.arn
}

output "trail_bucket_name" {
  description = "Bucket the trail delivers its log files to."
  value       = aws_s3_bucket.trail.bucket
}

output "kms_key_arn" {
  description = "ARN of the audit key (trail log files)."
  value       = aws_kms_key.audit.arn
}

output "access_analyzer_arn" {
  description = "ARN of the account's IAM Access Analyzer (null when access_analyzer is off)."
  value       = one(aws_accessanalyzer_analyzer.account[*].arn)
}
