output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.function.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.function.arn
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = aws_iam_role.function.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.function.name
}

output "environment" {
  description = "The function's environment."
  value       = aws_lambda_function.function.environment[0].variables
}

output "vpc_config" {
  description = "Subnets and security groups the function runs in (null outside a VPC)."
  value       = var.vpc_config
}
