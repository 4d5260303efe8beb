# The whole lakeml platform of one environment, wired once. infra/envs/<env> only choose values, so dev,
# staging and prod differ in settings, never in structure.

locals {
  name_prefix = coalesce(var.name_prefix, "lakeml-${var.env}")
}

module "lake" {
  source = "../lake"

  name_prefix               = local.name_prefix
  bucket_name               = var.lake_bucket_name
  force_destroy             = var.throwaway
  kms_deletion_window_days  = var.throwaway ? 7 : 30
  quarantine_retention_days = var.quarantine_retention_days
}

module "state" {
  source = "../state"

  name_prefix         = local.name_prefix
  kms_key_arn         = module.lake.kms_key_arn
  deletion_protection = !var.throwaway
}

module "ingestion" {
  source = "../ingestion"

  name_prefix                 = local.name_prefix
  image_uri                   = var.ingestion_image_uri
  lake_bucket_name            = module.lake.bucket_name
  lake_bucket_arn             = module.lake.bucket_arn
  bronze_prefix               = module.lake.prefixes.bronze
  quarantine_prefix           = module.lake.prefixes.quarantine
  kms_key_arn                 = module.lake.kms_key_arn
  watermark_table_name        = module.state.table_name
  watermark_table_arn         = module.state.table_arn
  source_secret_arn           = var.source_secret_arn
  secret_recovery_window_days = var.throwaway ? 0 : 30
  schedule_expression         = var.ingestion_schedule
  schedule_enabled            = var.ingestion_schedule_enabled
  reserved_concurrency        = var.ingestion_reserved_concurrency
  log_retention_days          = var.log_retention_days
  log_level                   = var.log_level
}

module "glue" {
  source = "../glue"

  name_prefix      = local.name_prefix
  lake_bucket_name = module.lake.bucket_name
  lake_bucket_arn  = module.lake.bucket_arn
  kms_key_arn      = module.lake.kms_key_arn
  layers = {
    for layer in ["bronze", "silver", "gold", "quarantine"] : layer => module.lake.prefixes[layer]
  }
}

module "ml" {
  source = "../ml"

  name_prefix     = local.name_prefix
  lake_bucket_arn = module.lake.bucket_arn
  kms_key_arn     = module.lake.kms_key_arn
  prefixes = {
    gold        = module.lake.prefixes.gold
    ml          = module.lake.prefixes.ml
    predictions = module.lake.prefixes.predictions
    registry    = module.lake.prefixes.registry
  }
  image_uri                   = var.ml_image_uri
  model_package_group_name    = var.model_package_group_name
  pipeline_lambda_arns        = var.pipeline_lambda_arns
  approver_principal_arns     = var.approver_principal_arns
  on_approved_target_arn      = var.on_approved_target_arn
  on_approved_target_role_arn = var.on_approved_target_role_arn
}

module "notify" {
  source = "../notify"

  name_prefix       = local.name_prefix
  kms_key_arn       = module.lake.kms_key_arn
  dlq_name          = module.ingestion.dlq_name
  function_name     = module.ingestion.function_name
  email_subscribers = var.alert_emails
}

module "network" {
  source = "../network"

  name_prefix     = local.name_prefix
  vpc_id          = var.vpc_id
  route_table_ids = var.route_table_ids
  subnet_ids      = var.subnet_ids
}

data "aws_caller_identity" "current" {}

locals {
  # What a person's shell (or CI) exports to run the lakeml CLI against this env: the same names the
  # ingestion Lambda gets, plus those the dbt-glue profile and the SageMaker pipeline read.
  lakeml_env = merge(
    { for name, value in module.ingestion.environment : name => value if startswith(name, "LAKEML_AWS__") || name == "LAKEML_ENV" || name == "LAKEML_SOURCE__SECRET_ID" },
    {
      LAKEML_AWS__ACCOUNT_ID         = data.aws_caller_identity.current.account_id
      LAKEML_AWS__GLUE_ROLE_ARN      = module.glue.role_arn
      LAKEML_AWS__SAGEMAKER_ROLE_ARN = module.ml.execution_role_arn
      LAKEML_AWS__IMAGE_URI          = var.ml_image_uri
      # one alert topic today: warnings and failures share it (lakeml notifications, alarms)
      LAKEML_AWS__WARNING_TOPIC_ARN  = module.notify.topic_arn
      LAKEML_AWS__CRITICAL_TOPIC_ARN = module.notify.topic_arn
    },
  )
}
