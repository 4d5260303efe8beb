output "topic_arn" {
  description = "ARN of the alert topic (lakeml notifications on AWS publish here too)."
  value       = aws_sns_topic.alerts.arn
}

output "alarm_arns" {
  description = "Alarm name -> ARN."
  value = {
    dlq_not_empty = aws_cloudwatch_metric_alarm.dlq_not_empty.arn
    lambda_errors = aws_cloudwatch_metric_alarm.lambda_errors.arn
  }
}
