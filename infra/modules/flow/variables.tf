variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "definition_file" {
  description = "Rendered ASL of the daily flow (a template with ISSUE 12's placeholders). Null: daily_flow.asl.json of this module, which `lakeml flow definition --output` writes."
  type        = string
  default     = null
}

variable "ingest_function_arn" {
  description = "ARN of the ingestion Lambda (the Map state invokes it per table)."
  type        = string
}

variable "quality_function_arn" {
  description = "ARN of the data-quality monitor Lambda."
  type        = string
}

variable "notify_function_arn" {
  description = "ARN of the notify Lambda."
  type        = string
}

variable "dbt_cluster_arn" {
  description = "ARN of the ECS cluster dbt runs on."
  type        = string
}

variable "dbt_task_definition_arn" {
  description = "ARN (with revision) of the dbt task definition; the only task the flow may run."
  type        = string
}

variable "dbt_container_name" {
  description = "Name of the dbt container in the task definition."
  type        = string
  default     = "dbt"
}

variable "dbt_task_role_arns" {
  description = "The dbt task's role and execution role: RunTask passes them, so the flow may pass these two only."
  type        = list(string)
}

variable "dbt_subnet_ids" {
  description = "Subnets the dbt task runs in (private, with a route to AWS APIs)."
  type        = list(string)
  default     = []
}

variable "dbt_security_group_ids" {
  description = "Security groups of the dbt task."
  type        = list(string)
  default     = []
}

variable "training_pipeline_name" {
  description = "SageMaker training pipeline (ml_pipelines/pipeline/target.py TRAINING_PIPELINE)."
  type        = string
  default     = "lakeml-churn-training"
}

variable "scoring_pipeline_name" {
  description = "SageMaker batch-scoring pipeline (ml_pipelines/pipeline/target.py BATCH_PIPELINE)."
  type        = string
  default     = "lakeml-churn-batch-scoring"
}

variable "model_package_group_arn" {
  description = "ARN of the model package group whose approved versions the scoring stage looks up."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK (encrypts the execution log group)."
  type        = string
}

variable "log_retention_days" {
  description = "Days the state machine's execution logs are kept."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "Execution log level: ERROR (failures only) or ALL; execution data is never logged."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ERROR", "ALL"], var.log_level)
    error_message = "log_level must be ERROR or ALL."
  }
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression of the daily run (UTC)."
  type        = string
  default     = "cron(0 2 * * ? *)"
}

variable "schedule_enabled" {
  description = "Whether the schedule starts the flow. Keep it off until the Snowflake secret has its value (docs/aws.md)."
  type        = bool
  default     = false
}

variable "tables" {
  description = "Source tables the scheduled run ingests (the state machine input's `tables`)."
  type        = list(string)

  validation {
    condition     = length(var.tables) > 0
    error_message = "tables must name at least one source table."
  }
}

variable "pipeline_params" {
  description = "Training pipeline parameters the scheduled run passes (the input's `pipeline_params`)."
  type        = map(string)
  default     = {}
}
