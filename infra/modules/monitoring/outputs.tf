output "warning_topic_arn" {
  description = "SNS topic of warnings (LAKEML_AWS__WARNING_TOPIC_ARN)."
  value       = aws_sns_topic.alerts["warning"].arn
}

output "critical_topic_arn" {
  description = "SNS topic of failures and persisting warnings (LAKEML_AWS__CRITICAL_TOPIC_ARN)."
  value       = aws_sns_topic.alerts["critical"].arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.lakeml.dashboard_name
}

output "alarm_names" {
  description = "Every alarm this module created."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.catalog : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.catalog_escalated : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.lambda_errors : a.alarm_name],
    [aws_cloudwatch_metric_alarm.flow_failed.alarm_name],
  )
}

output "query_names" {
  description = "Saved Logs Insights queries, one per component."
  value       = [for q in aws_cloudwatch_query_definition.errors : q.name]
}
