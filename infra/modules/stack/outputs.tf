# The names lakeml's settings and the SageMaker pipeline need on AWS (docs/infra.md maps each to its
# LAKEML_* variable).

output "lake_bucket" {
  description = "LAKEML_AWS__LAKE_BUCKET"
  value       = module.lake.bucket_name
}

output "lake_prefix_uris" {
  description = "Layer -> s3:// URI."
  value       = module.lake.prefix_uris
}

output "kms_key_arn" {
  description = "The lake CMK."
  value       = module.lake.kms_key_arn
}

output "watermark_table" {
  description = "LAKEML_AWS__WATERMARK_TABLE"
  value       = module.state.table_name
}

output "source_secret_arn" {
  description = "LAKEML_SOURCE__SECRET_ID: put the Snowflake credentials here."
  value       = module.ingestion.source_secret_arn
}

output "ingestion_function_arn" {
  description = "The ingestion Lambda."
  value       = module.ingestion.function_arn
}

output "ingestion_dlq_arn" {
  description = "Failed ingestion events wait here to be re-driven."
  value       = module.ingestion.dlq_arn
}

output "glue_databases" {
  description = "Layer -> Glue database."
  value       = module.glue.database_names
}

output "glue_role_arn" {
  description = "LAKEML_AWS__GLUE_ROLE_ARN (dbt-glue sessions)."
  value       = module.glue.role_arn
}

output "glue_security_configuration" {
  description = "dbt-glue `security_configuration`."
  value       = module.glue.security_configuration
}

output "sagemaker_execution_role_arn" {
  description = "LAKEML_AWS__SAGEMAKER_ROLE_ARN"
  value       = module.ml.execution_role_arn
}

output "model_package_group" {
  description = "Model package group (the pipeline's ModelPackageGroup parameter)."
  value       = module.ml.model_package_group_name
}

output "model_approver_role_arn" {
  description = "Assume this role to approve or reject a model version."
  value       = module.ml.approver_role_arn
}

output "alerts_topic_arn" {
  description = "SNS topic of lakeml alerts."
  value       = module.notify.topic_arn
}

output "lakeml_env" {
  description = "LAKEML_* variables that point the lakeml CLI at this env (export them, set AWS credentials, run)."
  value       = local.lakeml_env
}

output "ingestion_environment" {
  description = "Environment of the ingestion Lambda."
  value       = module.ingestion.environment
}
