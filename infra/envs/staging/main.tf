# staging: prod's shape and schedule on prod-like data, kept (no throwaway), shorter retention.
locals {
  env = "staging"
}

module "lakeml" {
  source = "../../modules/stack"

  env                       = local.env
  lambda_image_uri          = var.lambda_image_uri
  ml_image_uri              = var.ml_image_uri
  quarantine_retention_days = 30
  log_retention_days        = 30
  flow_schedule             = "cron(0 2 * * ? *)"
  approver_principal_arns   = var.approver_principal_arns
  flow_schedule_enabled     = var.flow_schedule_enabled
  pipeline_definition_files = var.pipeline_definition_files
  alert_emails              = var.alert_emails
  vpc_id                    = var.vpc_id
  route_table_ids           = var.route_table_ids
  subnet_ids                = var.subnet_ids
  private_networking        = true
}
