output "table_name" {
  description = "Name of the watermark table (LAKEML_AWS__WATERMARK_TABLE)."
  value       = aws_dynamodb_table.watermarks.name
}

output "table_arn" {
  description = "ARN of the watermark table."
  value       = aws_dynamodb_table.watermarks.arn
}

output "hash_key" {
  description = "Hash key attribute of the table (string)."
  value       = aws_dynamodb_table.watermarks.hash_key
}
