output "cluster_arn" {
  description = "ARN of the ECS cluster the flow runs dbt on."
  value       = aws_ecs_cluster.dbt.arn
}

output "task_definition_arn" {
  description = "ARN (with revision) of the dbt task definition."
  value       = aws_ecs_task_definition.dbt.arn
}

output "container_name" {
  description = "Name of the dbt container."
  value       = var.container_name
}

output "task_role_arn" {
  description = "ARN of the dbt task's role."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the task's execution role (image pull, logs)."
  value       = aws_iam_role.execution.arn
}

output "security_group_ids" {
  description = "Security groups of the task (empty without a vpc_id)."
  value       = aws_security_group.dbt[*].id
}

output "log_group_name" {
  description = "CloudWatch log group of the dbt task."
  value       = aws_cloudwatch_log_group.dbt.name
}
