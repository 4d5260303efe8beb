mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/ci", user_id = "AIDAEXAMPLE" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:lakeml-test-topic" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:lakeml-test" }
  }
}

override_resource {
  target = aws_sns_topic.alerts["warning"]
  values = { arn = "arn:aws:sns:eu-west-1:123456789012:lakeml-test-warning" }
}

override_resource {
  target = aws_sns_topic.alerts["critical"]
  values = { arn = "arn:aws:sns:eu-west-1:123456789012:lakeml-test-critical" }
}

variables {
  name_prefix       = "lakeml-test"
  kms_key_arn       = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  metrics_file      = "tests/metrics.sample.json"
  dlq_name          = "lakeml-test-ingestion-dlq"
  state_machine_arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakeml-test-daily-flow"
  function_names    = { ingestion = "lakeml-test-ingestion", notify = "lakeml-test-notify" }
  log_groups        = { ingestion = ["/aws/lambda/lakeml-test-ingestion"], transform = ["/ecs/lakeml-test-dbt"] }
  email_subscribers = ["oncall@example.com"]
}

run "two_distinct_encrypted_topics" {
  assert {
    condition     = output.warning_topic_arn != output.critical_topic_arn && alltrue([for t in aws_sns_topic.alerts : t.kms_master_key_id == var.kms_key_arn])
    error_message = "a warning and a critical topic, both encrypted with the CMK"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.email) == 2
    error_message = "each subscriber gets both topics"
  }
}

run "catalog_alarms_follow_the_catalog" {
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.catalog)) == toset(["lakeml-ingestion-tables-failed", "lakeml-test-quality-DbtFailures", "lakeml-endpoint-latency-p99", "lakeml-dlq-depth"])
    error_message = "one alarm per catalog metric with an alarm, named as the catalog names it (else <prefix>-<component>-<metric>)"
  }
  assert {
    condition = (
      one(aws_cloudwatch_metric_alarm.catalog["lakeml-ingestion-tables-failed"].metric_query).expression == "SELECT SUM(TablesFailed) FROM \"lakeml/ingestion\""
      && aws_cloudwatch_metric_alarm.catalog["lakeml-ingestion-tables-failed"].threshold == 1
      && aws_cloudwatch_metric_alarm.catalog["lakeml-ingestion-tables-failed"].comparison_operator == "GreaterThanOrEqualToThreshold"
      && aws_cloudwatch_metric_alarm.catalog["lakeml-ingestion-tables-failed"].alarm_actions == toset([output.warning_topic_arn])
    )
    error_message = "a metric with run-time dimensions is alarmed across their values (Metrics Insights); a warning notifies the warning topic"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.catalog["lakeml-test-quality-DbtFailures"].namespace == "lakeml/quality"
      && aws_cloudwatch_metric_alarm.catalog["lakeml-test-quality-DbtFailures"].statistic == "Maximum"
      && aws_cloudwatch_metric_alarm.catalog["lakeml-test-quality-DbtFailures"].period == 3600
      && aws_cloudwatch_metric_alarm.catalog["lakeml-test-quality-DbtFailures"].alarm_actions == toset([output.critical_topic_arn])
    )
    error_message = "a metric without dimensions is alarmed directly; a critical one notifies the critical topic"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.catalog["lakeml-dlq-depth"].dimensions == tomap({ QueueName = var.dlq_name })
      && aws_cloudwatch_metric_alarm.catalog["lakeml-dlq-depth"].namespace == "AWS/SQS"
    )
    error_message = "dimensions Terraform knows are filled in (the DLQ)"
  }
}

run "a_persisting_warning_escalates_to_critical" {
  assert {
    condition = (
      toset(keys(aws_cloudwatch_metric_alarm.catalog_escalated)) == toset(["lakeml-ingestion-tables-failed", "lakeml-dlq-depth"])
      && aws_cloudwatch_metric_alarm.catalog_escalated["lakeml-dlq-depth"].alarm_name == "lakeml-dlq-depth-persists"
      && aws_cloudwatch_metric_alarm.catalog_escalated["lakeml-dlq-depth"].evaluation_periods == 6
      && aws_cloudwatch_metric_alarm.catalog_escalated["lakeml-dlq-depth"].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.catalog_escalated["lakeml-dlq-depth"].alarm_actions == toset([output.critical_topic_arn])
    )
    error_message = "every warning alarm has a twin on the same metric with escalation_factor x the periods, on the critical topic"
  }
}

run "endpoint_alarm_carries_the_rollback_name_and_percentile" {
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.catalog["lakeml-endpoint-latency-p99"].extended_statistic == "p99"
      && aws_cloudwatch_metric_alarm.catalog["lakeml-endpoint-latency-p99"].statistic == null
      && aws_cloudwatch_metric_alarm.catalog["lakeml-endpoint-latency-p99"].dimensions == tomap({ EndpointName = "lakeml-churn", VariantName = "AllTraffic" })
    )
    error_message = "the endpoint alarm watches the production variant's p99 under the name the deployer rolls back on"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.flow_failed.alarm_actions == toset([output.critical_topic_arn]) && length(aws_cloudwatch_metric_alarm.lambda_errors) == 2
    error_message = "a failed flow execution is critical; each Lambda's errors are alarmed"
  }
}

run "dashboard_draws_every_catalog_metric" {
  assert {
    condition = alltrue([
      for m in jsondecode(file("tests/metrics.sample.json")).metrics : strcontains(aws_cloudwatch_dashboard.lakeml.dashboard_body, m.name)
    ])
    error_message = "every metric of the catalog appears on the dashboard"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.lakeml.dashboard_body, "MetricName=\\\"RowsLanded\\\"', 'Sum', 300)")
    error_message = "a metric with run-time dimensions is drawn per value with SEARCH"
  }
}

run "one_saved_query_per_component" {
  assert {
    condition     = toset(output.query_names) == toset(["lakeml-test/ingestion/errors", "lakeml-test/transform/errors"])
    error_message = "a saved Logs Insights query per component"
  }
}

run "the_committed_catalog_renders_with_the_deployers_rollback_alarms" {
  variables {
    metrics_file = null
  }
  assert {
    condition = length(aws_cloudwatch_metric_alarm.catalog) == length([
      for m in jsondecode(file("metrics.json")).metrics : m if m.alarm != null
    ])
    error_message = "every alarm of the committed catalog (lakeml/core/metrics.py) becomes an alarm"
  }
  assert {
    condition     = contains(output.alarm_names, "lakeml-endpoint-5xx") && contains(output.alarm_names, "lakeml-endpoint-latency-p99")
    error_message = "the blue/green deployer rolls back on lakeml-endpoint-5xx and lakeml-endpoint-latency-p99: the catalog must alarm both"
  }
}

run "rejects_escalating_at_once" {
  command = plan
  variables {
    escalation_factor = 1
  }
  expect_failures = [var.escalation_factor]
}
