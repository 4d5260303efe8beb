output "state_machine_arn" {
  description = "ARN of the daily flow (LAKEML_AWS__STATE_MACHINE_ARN: `lakeml run` starts it on aws)."
  value       = aws_sfn_state_machine.flow.arn
}

output "state_machine_name" {
  description = "Name of the daily flow's state machine."
  value       = aws_sfn_state_machine.flow.name
}

output "role_arn" {
  description = "ARN of the state machine's role."
  value       = aws_iam_role.flow.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the executions."
  value       = aws_cloudwatch_log_group.flow.name
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.daily.name
}

output "state_machine_definition" {
  description = "The rendered definition (placeholders filled)."
  value       = aws_sfn_state_machine.flow.definition
}

output "max_map_concurrency" {
  description = "The widest Map of the rendered flow (the ingestion Lambda's reserved concurrency must allow it)."
  value       = local.max_map_concurrency
}
