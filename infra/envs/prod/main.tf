# prod: nothing is throwaway (deletion protection, 30-day key and secret windows), longer retention for
# audits, ingestion daily at 02:00 UTC.
locals {
  env = "prod"
}

module "lakeml" {
  source = "../../modules/stack"

  env                         = local.env
  ingestion_image_uri         = var.ingestion_image_uri
  ml_image_uri                = var.ml_image_uri
  quarantine_retention_days   = 180
  log_retention_days          = 90
  ingestion_schedule          = "cron(0 2 * * ? *)"
  approver_principal_arns     = var.approver_principal_arns
  on_approved_target_arn      = var.on_approved_target_arn
  on_approved_target_role_arn = var.on_approved_target_role_arn
  alert_emails                = var.alert_emails
  vpc_id                      = var.vpc_id
  route_table_ids             = var.route_table_ids
  subnet_ids                  = var.subnet_ids
}
