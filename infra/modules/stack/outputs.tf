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

output "warning_topic_arn" {
  description = "SNS topic of warnings (LAKEML_AWS__WARNING_TOPIC_ARN)."
  value       = module.monitoring.warning_topic_arn
}

output "critical_topic_arn" {
  description = "SNS topic of failures and persisting warnings (LAKEML_AWS__CRITICAL_TOPIC_ARN)."
  value       = module.monitoring.critical_topic_arn
}

output "image_repositories" {
  description = "ml/lambda -> ECR repository URL (`make images` pushes <url>:<git sha>)."
  value       = module.images.repository_urls
}

output "state_machine_arn" {
  description = "LAKEML_AWS__STATE_MACHINE_ARN: the daily flow."
  value       = module.flow.state_machine_arn
}

output "function_arns" {
  description = "Lambda -> ARN."
  value = {
    ingestion      = module.ingestion.function_arn
    quality        = module.quality.function_arn
    notify         = module.notify.function_arn
    on-approval    = module.on_approval.function_arn
    deploy-staging = module.deploy_staging.function_arn
  }
}

output "dbt_task" {
  description = "The dbt ECS task the flow runs."
  value = {
    cluster_arn         = module.transform.cluster_arn
    task_definition_arn = module.transform.task_definition_arn
    task_role_arn       = module.transform.task_role_arn
  }
}

output "feature_group" {
  description = "Feature group IngestFeatures writes."
  value       = module.ml.feature_group_name
}

output "pipelines" {
  description = "Pipeline names (and ARNs of those created from definition files)."
  value       = { names = module.ml.pipeline_names, arns = module.ml.pipeline_arns }
}

output "dashboard" {
  description = "CloudWatch dashboard of this env."
  value       = module.monitoring.dashboard_name
}

output "alarm_names" {
  description = "Every lakeml alarm of this env."
  value       = module.monitoring.alarm_names
}

output "lakeml_env" {
  description = "LAKEML_* variables that point the lakeml CLI at this env (export them, set AWS credentials, run)."
  value       = local.lakeml_env
}

output "ingestion_environment" {
  description = "Environment of the ingestion Lambda."
  value       = module.ingestion.environment
}

output "audit" {
  description = "The CloudTrail trail, its bucket and key, and the account's Access Analyzer (null when off)."
  value = {
    trail_arn           = module.audit.trail_arn
    trail_bucket        = module.audit.trail_bucket_name
    kms_key_arn         = module.audit.kms_key_arn
    access_analyzer_arn = module.audit.access_analyzer_arn
  }
}
