# A saved Logs Insights query per component (CloudWatch > Logs Insights > Saved queries): its errors,
# newest first. The Lambdas log JSON (Powertools: level, message); dbt and the state machine log text or
# JSON, hence the second pattern.

resource "aws_cloudwatch_query_definition" "errors" {
  for_each = var.log_groups

  name            = "${var.name_prefix}/${each.key}/errors"
  log_group_names = each.value
  query_string    = <<-QUERY
    fields @timestamp, @logStream, level, message, @message
    | filter level = "ERROR" or level = "CRITICAL" or @message like /(?i)(error|exception|traceback|failed)/
    | sort @timestamp desc
    | limit 200
  QUERY
}
