output "bucket_name" {
  description = "Name of the lake bucket (LAKEML_AWS__LAKE_BUCKET)."
  value       = aws_s3_bucket.lake.id
}

output "bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.lake.arn
}

output "log_bucket_name" {
  description = "Name of the bucket receiving the lake's S3 server access logs."
  value       = aws_s3_bucket.logs.id
}

output "kms_key_arn" {
  description = "ARN of the lake CMK; the other modules encrypt with it and grant its use."
  value       = aws_kms_key.lake.arn
}

output "prefixes" {
  description = "Layer name -> key prefix (no slashes), e.g. bronze -> \"bronze\"."
  value       = local.prefixes
}

output "prefix_uris" {
  description = "Layer name -> s3:// URI of the layer's folder."
  value       = { for layer, prefix in local.prefixes : layer => "s3://${aws_s3_bucket.lake.id}/${prefix}/" }
}

output "object_arns" {
  description = "Layer name -> ARN pattern of the objects under the layer (for IAM policies)."
  value       = { for layer, prefix in local.prefixes : layer => "${aws_s3_bucket.lake.arn}/${prefix}/*" }
}
