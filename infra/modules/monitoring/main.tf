# How lakeml is watched on AWS. One catalog of the metrics the code emits (lakeml/core/metrics.py,
# rendered to metrics.json next to this file; a test fails when it is stale) drives the dashboard and the
# alarms on lakeml's own metrics, so a metric renamed in code cannot leave a dashboard or alarm behind.
# Two encrypted SNS topics: warning and critical (the notify Lambda publishes to both, alarms too).
#
# Escalation: every warning alarm has a twin on the same metric with `escalation_factor` times the
# evaluation periods that notifies the critical topic, so a warning that persists becomes critical. A
# composite alarm cannot express "still in ALARM after N minutes" (its rule only combines current
# states), which is why the twin is a second metric alarm.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  catalog = jsondecode(file(coalesce(var.metrics_file, "${path.module}/metrics.json"))).metrics

  # Metrics Insights aggregates (alarms on metrics with dimensions use it: the dimension values are only
  # known at run time, e.g. one per table).
  insights_stat = { Sum = "SUM", Maximum = "MAX", Minimum = "MIN", Average = "AVG", SampleCount = "COUNT" }

  # Dimension values Terraform knows; a metric whose dimensions are all here is alarmed on exactly them
  # (the endpoint, the queue). Others (per table, per service, per pipeline) are alarmed across every
  # value with Metrics Insights, which has no percentiles: such a metric must use Sum/Maximum/....
  dimension_values = {
    EndpointName = var.endpoint_name
    VariantName  = var.endpoint_variant
    QueueName    = var.dlq_name
  }

  catalog_alarms = {
    for m in local.catalog : coalesce(try(m.alarm.name, null), "${var.name_prefix}-${m.component}-${m.name}") => {
      namespace   = m.namespace
      metric      = m.name
      stat        = m.stat
      dimensions  = m.dimensions
      plain       = alltrue([for d in m.dimensions : contains(keys(local.dimension_values), d)])
      description = coalesce(try(m.alarm.description, ""), m.description)
      threshold   = m.alarm.threshold
      comparison  = m.alarm.comparison
      periods     = m.alarm.periods
      period      = m.alarm.period_s
      severity    = m.alarm.severity
    } if m.alarm != null
  }

  components = distinct([for m in local.catalog : m.component])

  topics = { warning = aws_sns_topic.alerts["warning"].arn, critical = aws_sns_topic.alerts["critical"].arn }
}

# -------------------------------------------------------------------------------------------- topics

resource "aws_sns_topic" "alerts" {
  for_each = toset(["warning", "critical"])

  name              = "${var.name_prefix}-${each.key}"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_policy" "alerts" {
  for_each = aws_sns_topic.alerts

  arn = each.value.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudWatchAlarmsOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = each.value.arn
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = each.value.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = { for pair in setproduct(["warning", "critical"], var.email_subscribers) : "${pair[0]}:${pair[1]}" => pair }

  topic_arn = aws_sns_topic.alerts[each.value[0]].arn
  protocol  = "email"
  endpoint  = each.value[1]
}

# ------------------------------------------------------------------------------ alarms from the catalog

resource "aws_cloudwatch_metric_alarm" "catalog" {
  for_each = local.catalog_alarms

  alarm_name          = each.key
  alarm_description   = "${each.value.description} (${each.value.namespace} ${each.value.metric}; lakeml/core/metrics.py; ${each.value.severity})"
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = each.value.periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topics[each.value.severity]]
  ok_actions          = [local.topics[each.value.severity]]

  namespace          = each.value.plain ? each.value.namespace : null
  metric_name        = each.value.plain ? each.value.metric : null
  dimensions         = each.value.plain ? { for d in each.value.dimensions : d => local.dimension_values[d] } : null
  statistic          = each.value.plain && !startswith(each.value.stat, "p") ? each.value.stat : null
  extended_statistic = each.value.plain && startswith(each.value.stat, "p") ? each.value.stat : null
  period             = each.value.plain ? each.value.period : null

  lifecycle {
    precondition {
      condition     = each.value.plain || contains(keys(local.insights_stat), each.value.stat)
      error_message = "${each.key}: ${each.value.metric} has dimensions Terraform cannot fill and the statistic ${each.value.stat}, which Metrics Insights lacks; use Sum, Maximum, Minimum, Average or SampleCount in lakeml/core/metrics.py."
    }
  }

  dynamic "metric_query" {
    for_each = each.value.plain ? [] : [each.value]
    content {
      id          = "q"
      expression  = "SELECT ${local.insights_stat[metric_query.value.stat]}(${metric_query.value.metric}) FROM \"${metric_query.value.namespace}\""
      period      = metric_query.value.period
      return_data = true
    }
  }
}

# A warning that persists escalation_factor times as long is critical.
resource "aws_cloudwatch_metric_alarm" "catalog_escalated" {
  for_each = { for key, a in local.catalog_alarms : key => a if a.severity == "warning" }

  alarm_name          = "${each.key}-persists"
  alarm_description   = "Still breaching after ${each.value.periods * var.escalation_factor} periods: ${each.value.description}"
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = min(each.value.periods * var.escalation_factor, floor(86400 / each.value.period))
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topics.critical]
  ok_actions          = [local.topics.critical]

  namespace          = each.value.plain ? each.value.namespace : null
  metric_name        = each.value.plain ? each.value.metric : null
  dimensions         = each.value.plain ? { for d in each.value.dimensions : d => local.dimension_values[d] } : null
  statistic          = each.value.plain && !startswith(each.value.stat, "p") ? each.value.stat : null
  extended_statistic = each.value.plain && startswith(each.value.stat, "p") ? each.value.stat : null
  period             = each.value.plain ? each.value.period : null

  dynamic "metric_query" {
    for_each = each.value.plain ? [] : [each.value]
    content {
      id          = "q"
      expression  = "SELECT ${local.insights_stat[metric_query.value.stat]}(${metric_query.value.metric}) FROM \"${metric_query.value.namespace}\""
      period      = metric_query.value.period
      return_data = true
    }
  }
}
