# The whole lakeml platform of one environment, wired once. infra/envs/<env> only choose values, so dev,
# staging and prod differ in settings, never in structure.

locals {
  name_prefix = coalesce(var.name_prefix, "lakeml-${var.env}")

  # private_networking: the Lambdas and the SageMaker jobs and models run in the private subnets, in the
  # network module's runtimes security group, and reach AWS through its endpoints (the dbt task always
  # runs in subnet_ids, without a public IP).
  runtime_security_group_ids = var.private_networking ? [module.network.runtime_security_group_id] : []
  runtime_vpc                = var.private_networking ? { subnet_ids = var.subnet_ids, security_group_ids = local.runtime_security_group_ids } : null

  # What the code that builds SageMaker jobs and endpoint configs reads (lakeml.core.settings AwsSettings):
  # the key they are encrypted with and, with private_networking, their subnets and security group.
  sagemaker_environment = merge(
    {
      LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN = module.lake.kms_key_arn
    },
    var.private_networking ? {
      LAKEML_AWS__SAGEMAKER_SUBNET_IDS         = jsonencode(var.subnet_ids)
      LAKEML_AWS__SAGEMAKER_SECURITY_GROUP_IDS = jsonencode(local.runtime_security_group_ids)
    } : {},
  )
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

module "images" {
  source = "../images"

  name_prefix  = local.name_prefix
  kms_key_arn  = module.lake.kms_key_arn
  force_delete = var.throwaway
}

module "ingestion" {
  source = "../ingestion"

  name_prefix                 = local.name_prefix
  image_uri                   = var.lambda_image_uri
  lake_bucket_name            = module.lake.bucket_name
  lake_bucket_arn             = module.lake.bucket_arn
  bronze_prefix               = module.lake.prefixes.bronze
  quarantine_prefix           = module.lake.prefixes.quarantine
  kms_key_arn                 = module.lake.kms_key_arn
  watermark_table_name        = module.state.table_name
  watermark_table_arn         = module.state.table_arn
  source_secret_arn           = var.source_secret_arn
  secret_recovery_window_days = var.throwaway ? 0 : 30
  # The daily flow's schedule (module.flow) starts ingestion; this rule runs ingestion alone.
  schedule_expression = var.ingestion_schedule
  schedule_enabled    = var.ingestion_schedule_enabled
  # The flow's Map ingests tables in parallel: the cap must allow it (watermarks are per table and
  # advanced with a conditional write, so parallel runs of different tables do not race).
  reserved_concurrency = var.ingestion_reserved_concurrency == null ? null : max(var.ingestion_reserved_concurrency, module.flow.max_map_concurrency)
  log_retention_days   = var.log_retention_days
  log_level            = var.log_level
  vpc_config           = local.runtime_vpc
}

module "glue" {
  source = "../glue"

  name_prefix      = local.name_prefix
  lake_bucket_name = module.lake.bucket_name
  lake_bucket_arn  = module.lake.bucket_arn
  kms_key_arn      = module.lake.kms_key_arn
  # Each database where dbt puts its schema (dbt_project/macros/lake_layout.sql lakeml_layer_locations):
  # dbt's quarantine lives at quarantine/dbt, beside ingestion's quarantine/<table>/ of rows rejected at
  # landing; another location would make dbt-glue re-create the database there and Terraform revert it.
  layers = merge(
    { for layer in ["bronze", "silver", "gold", "predictions"] : layer => module.lake.prefixes[layer] },
    { quarantine = "${module.lake.prefixes.quarantine}/dbt" },
  )
}

module "ml" {
  source = "../ml"

  name_prefix     = local.name_prefix
  lake_bucket_arn = module.lake.bucket_arn
  kms_key_arn     = module.lake.kms_key_arn
  prefixes = {
    gold          = module.lake.prefixes.gold
    ml            = module.lake.prefixes.ml
    predictions   = module.lake.prefixes.predictions
    registry      = module.lake.prefixes.registry
    feature_store = module.lake.prefixes.features
    runs          = module.lake.prefixes.runs
  }
  image_uri                       = var.ml_image_uri
  model_package_group_name        = var.model_package_group_name
  pipeline_lambda_arns            = [module.deploy_staging.function_arn]
  approver_principal_arns         = var.approver_principal_arns
  on_approval_function_arn        = module.on_approval.function_arn
  on_pipeline_failed_function_arn = module.notify.function_arn
  pipeline_definition_files       = var.pipeline_definition_files
  private_networking              = var.private_networking
}

module "transform" {
  source = "../transform"

  name_prefix        = local.name_prefix
  image_uri          = var.ml_image_uri
  lake_bucket_name   = module.lake.bucket_name
  lake_bucket_arn    = module.lake.bucket_arn
  bronze_prefix      = module.lake.prefixes.bronze
  runs_prefix        = module.lake.prefixes.runs
  kms_key_arn        = module.lake.kms_key_arn
  glue_role_arn      = module.glue.role_arn
  glue_databases     = values(module.glue.database_names)
  vpc_id             = var.vpc_id
  log_retention_days = var.log_retention_days
  environment        = { LAKEML_LOG_LEVEL = var.log_level }
}

module "flow" {
  source = "../flow"

  name_prefix             = local.name_prefix
  ingest_function_arn     = module.ingestion.function_arn
  quality_function_arn    = module.quality.function_arn
  notify_function_arn     = module.notify.function_arn
  dbt_cluster_arn         = module.transform.cluster_arn
  dbt_task_definition_arn = module.transform.task_definition_arn
  dbt_container_name      = module.transform.container_name
  dbt_task_role_arns      = [module.transform.task_role_arn, module.transform.execution_role_arn]
  dbt_subnet_ids          = var.subnet_ids
  dbt_security_group_ids  = module.transform.security_group_ids
  training_pipeline_name  = module.ml.pipeline_names.training
  scoring_pipeline_name   = module.ml.pipeline_names.scoring
  model_package_group_arn = module.ml.model_package_group_arn
  kms_key_arn             = module.lake.kms_key_arn
  log_retention_days      = var.log_retention_days
  schedule_expression     = var.flow_schedule
  schedule_enabled        = var.flow_schedule_enabled
  tables                  = var.flow_tables
  pipeline_params         = var.flow_pipeline_params
}

module "monitoring" {
  source = "../monitoring"

  name_prefix       = local.name_prefix
  kms_key_arn       = module.lake.kms_key_arn
  email_subscribers = var.alert_emails
  dlq_name          = module.ingestion.dlq_name
  state_machine_arn = module.flow.state_machine_arn
  endpoint_name     = var.production_endpoint
  function_names = {
    ingestion      = module.ingestion.function_name
    quality        = module.quality.function_name
    notify         = module.notify.function_name
    on-approval    = module.on_approval.function_name
    deploy-staging = module.deploy_staging.function_name
  }
  log_groups = {
    ingestion      = [module.ingestion.log_group_name]
    quality        = [module.quality.log_group_name]
    notify         = [module.notify.log_group_name]
    on-approval    = [module.on_approval.log_group_name]
    deploy-staging = [module.deploy_staging.log_group_name]
    transform      = [module.transform.log_group_name]
    flow           = [module.flow.log_group_name]
  }
}

module "audit" {
  source = "../audit"

  name_prefix              = local.name_prefix
  lake_bucket_arn          = module.lake.bucket_arn
  force_destroy            = var.throwaway
  kms_deletion_window_days = var.throwaway ? 7 : 30
  log_retention_days       = var.audit_log_retention_days
  access_analyzer          = var.access_analyzer
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
      LAKEML_AWS__ACCOUNT_ID          = data.aws_caller_identity.current.account_id
      LAKEML_AWS__GLUE_ROLE_ARN       = module.glue.role_arn
      LAKEML_AWS__SAGEMAKER_ROLE_ARN  = module.ml.execution_role_arn
      LAKEML_AWS__IMAGE_URI           = var.ml_image_uri
      LAKEML_AWS__DEPLOY_FUNCTION_ARN = module.deploy_staging.function_arn
      LAKEML_AWS__STATE_MACHINE_ARN   = module.flow.state_machine_arn
      LAKEML_AWS__WARNING_TOPIC_ARN   = module.monitoring.warning_topic_arn
      LAKEML_AWS__CRITICAL_TOPIC_ARN  = module.monitoring.critical_topic_arn
    },
    local.sagemaker_environment,
  )
}
