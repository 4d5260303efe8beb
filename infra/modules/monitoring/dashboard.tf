# One dashboard per env: the alarm states first, then one widget per component with every metric the
# catalog lists for it (a metric with dimensions is drawn per dimension value with SEARCH), then the flow's
# executions and the Lambdas' errors (AWS metrics only Terraform can name).

locals {
  period = var.alarm_period_seconds

  catalog_lines = {
    for component in local.components : component => [
      for i, m in [for m in local.catalog : m if m.component == component] :
      # both branches as JSON text: a plain metric line and a SEARCH expression line differ in type
      jsondecode(alltrue([for d in m.dimensions : contains(keys(local.dimension_values), d)])
        ? jsonencode(concat([m.namespace, m.name], flatten([for d in m.dimensions : [d, local.dimension_values[d]]]), [{ stat = m.stat, label = m.name }]))
        : jsonencode([{ id = "e${i}", label = m.name, expression = "SEARCH('{${join(",", concat(["\"${m.namespace}\""], [for d in m.dimensions : "\"${d}\""]))}} MetricName=\"${m.name}\"', '${m.stat}', ${local.period})" }])
      )
    ]
  }

  alarm_arns = concat(
    [for a in aws_cloudwatch_metric_alarm.catalog : a.arn],
    [for a in aws_cloudwatch_metric_alarm.catalog_escalated : a.arn],
    [for a in aws_cloudwatch_metric_alarm.lambda_errors : a.arn],
    [aws_cloudwatch_metric_alarm.flow_failed.arn],
  )

  dashboard_widgets = concat(
    [{
      type   = "alarm"
      width  = 24
      height = 4
      properties = {
        title  = "lakeml alarms"
        alarms = local.alarm_arns
      }
    }],
    [for component in local.components : {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "${component} (lakeml/core/metrics.py)"
        region  = local.region
        view    = "timeSeries"
        period  = local.period
        metrics = local.catalog_lines[component]
      }
    }],
    [
      {
        type   = "metric"
        width  = 12
        height = 6
        properties = {
          title  = "daily flow executions"
          region = local.region
          period = local.period
          stat   = "Sum"
          metrics = [
            for name in ["ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
            ["AWS/States", name, "StateMachineArn", var.state_machine_arn]
          ]
        }
      },
      {
        type   = "metric"
        width  = 12
        height = 6
        properties = {
          title   = "Lambda errors"
          region  = local.region
          period  = local.period
          stat    = "Sum"
          metrics = [for name, fn in var.function_names : ["AWS/Lambda", "Errors", "FunctionName", fn, { label = name }]]
        }
      },
    ],
  )
}

resource "aws_cloudwatch_dashboard" "lakeml" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
