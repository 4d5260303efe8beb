output "function_name" {
  description = "Name of the ingestion Lambda."
  value       = aws_lambda_function.ingestion.function_name
}

output "function_arn" {
  description = "ARN of the ingestion Lambda (a Step Functions task invokes it)."
  value       = aws_lambda_function.ingestion.arn
}

output "role_arn" {
  description = "ARN of the ingestion Lambda's execution role."
  value       = aws_iam_role.ingestion.arn
}

output "dlq_arn" {
  description = "ARN of the SQS queue receiving failed asynchronous invocations."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the failure queue (for the depth alarm)."
  value       = aws_sqs_queue.dlq.name
}

output "source_secret_arn" {
  description = "ARN of the Snowflake credentials secret (LAKEML_SOURCE__SECRET_ID)."
  value       = local.secret_arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.function.name
}

output "schedule_rule_name" {
  description = "Name of the EventBridge schedule rule."
  value       = aws_cloudwatch_event_rule.schedule.name
}

output "environment" {
  description = "The function's environment (LAKEML_* and POWERTOOLS_*): the settings lakeml runs with on AWS."
  value       = aws_lambda_function.ingestion.environment[0].variables
}

output "reserved_concurrency" {
  description = "Reserved concurrent executions of the function (-1: unreserved)."
  value       = aws_lambda_function.ingestion.reserved_concurrent_executions
}

output "vpc_config" {
  description = "Subnets and security groups the function runs in (null outside a VPC)."
  value       = var.vpc_config
}
