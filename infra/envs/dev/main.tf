# dev: a throwaway env for trying changes. Destroy empties buckets and drops the table; the daily flow runs
# when started by hand (`lakeml run`) unless flow_schedule_enabled, at DEBUG.
locals {
  env = "dev"
}

module "lakeml" {
  source = "../../modules/stack"

  env                       = local.env
  lambda_image_uri          = var.lambda_image_uri
  ml_image_uri              = var.ml_image_uri
  throwaway                 = true
  quarantine_retention_days = 14
  log_retention_days        = 14
  log_level                 = "DEBUG"
  approver_principal_arns   = var.approver_principal_arns
  flow_schedule_enabled     = var.flow_schedule_enabled
  pipeline_definition_files = var.pipeline_definition_files
  alert_emails              = var.alert_emails
  vpc_id                    = var.vpc_id
  route_table_ids           = var.route_table_ids
  subnet_ids                = var.subnet_ids
  access_analyzer           = false
}
