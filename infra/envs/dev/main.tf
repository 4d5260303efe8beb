# dev: a throwaway env for trying changes. Destroy empties buckets and drops the table; ingestion only runs
# when started by hand (the schedule is off), at DEBUG.
locals {
  env = "dev"
}

module "lakeml" {
  source = "../../modules/stack"

  env                         = local.env
  ingestion_image_uri         = var.ingestion_image_uri
  ml_image_uri                = var.ml_image_uri
  throwaway                   = true
  quarantine_retention_days   = 14
  log_retention_days          = 14
  ingestion_schedule_enabled  = false
  log_level                   = "DEBUG"
  approver_principal_arns     = var.approver_principal_arns
  on_approved_target_arn      = var.on_approved_target_arn
  on_approved_target_role_arn = var.on_approved_target_role_arn
  alert_emails                = var.alert_emails
  vpc_id                      = var.vpc_id
  route_table_ids             = var.route_table_ids
  subnet_ids                  = var.subnet_ids
}
