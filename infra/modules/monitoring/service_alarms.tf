# Alarms on AWS metrics of resources only Terraform knows about, so not in the code's catalog: each
# Lambda's errors and the daily flow's unsuccessful executions. (The DLQ, pipeline and endpoint alarms are
# in the catalog, with the names the code uses: the deployer rolls back on lakeml-endpoint-5xx/-latency-p99.)

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = var.function_names

  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "The ${each.key} Lambda ${each.value} raised an error; its log (saved query ${var.name_prefix}/${each.key}/errors) says why."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topics.warning]
  ok_actions          = [local.topics.warning]
}

resource "aws_cloudwatch_metric_alarm" "flow_failed" {
  alarm_name          = "${var.name_prefix}-daily-flow-failed"
  alarm_description   = "An execution of the daily flow failed, timed out or was aborted; the notify Lambda has sent the stage and cause."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topics.critical]
  ok_actions          = [local.topics.critical]

  metric_query {
    id          = "failed"
    expression  = "failures + timeouts + aborts"
    label       = "unsuccessful executions"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { failures = "ExecutionsFailed", timeouts = "ExecutionsTimedOut", aborts = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        dimensions  = { StateMachineArn = var.state_machine_arn }
        stat        = "Sum"
        period      = var.alarm_period_seconds
      }
    }
  }
}
