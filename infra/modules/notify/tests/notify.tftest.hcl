mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/ci", user_id = "AIDAEXAMPLE" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:lakeml-test-alerts" }
  }
}

variables {
  name_prefix       = "lakeml-test"
  kms_key_arn       = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  dlq_name          = "lakeml-test-ingestion-dlq"
  function_name     = "lakeml-test-ingestion"
  email_subscribers = ["data-oncall@example.com"]
}

run "alarms_watch_the_dlq_and_lambda_errors" {
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.dlq_not_empty.namespace == "AWS/SQS"
      && aws_cloudwatch_metric_alarm.dlq_not_empty.metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.dlq_not_empty.dimensions.QueueName == "lakeml-test-ingestion-dlq"
      && aws_cloudwatch_metric_alarm.dlq_not_empty.comparison_operator == "GreaterThanThreshold"
      && aws_cloudwatch_metric_alarm.dlq_not_empty.threshold == 0
    )
    error_message = "one message in the DLQ must raise the alarm"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lambda_errors.namespace == "AWS/Lambda"
      && aws_cloudwatch_metric_alarm.lambda_errors.metric_name == "Errors"
      && aws_cloudwatch_metric_alarm.lambda_errors.dimensions.FunctionName == "lakeml-test-ingestion"
      && aws_cloudwatch_metric_alarm.lambda_errors.threshold == 0
    )
    error_message = "one Lambda error must raise the alarm"
  }
  assert {
    condition = alltrue([
      for alarm in [aws_cloudwatch_metric_alarm.dlq_not_empty, aws_cloudwatch_metric_alarm.lambda_errors] :
      alarm.alarm_actions == toset([aws_sns_topic.alerts.arn]) && alarm.treat_missing_data == "notBreaching"
    ])
    error_message = "both alarms notify the topic; no data (no runs) is not an alarm"
  }
}

run "topic_is_encrypted_and_open_to_this_accounts_alarms_only" {
  assert {
    condition     = aws_sns_topic.alerts.kms_master_key_id == var.kms_key_arn
    error_message = "the topic must be encrypted with the lake CMK"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_sns_topic_policy.alerts.policy).Statement :
      s.Effect == "Allow" && try(s.Principal.Service, "") == "cloudwatch.amazonaws.com"
      && try(s.Condition.StringEquals["aws:SourceAccount"], "") == "123456789012"
    ])
    error_message = "CloudWatch alarms of this account (only) may publish"
  }
  assert {
    condition     = aws_sns_topic_subscription.email["data-oncall@example.com"].protocol == "email"
    error_message = "each address gets an email subscription"
  }
}
