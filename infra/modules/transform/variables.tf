variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "image_uri" {
  description = "ECR URI (tag or digest) of the lakeml ML image; the task runs its `lakeml transform`."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image URI with a tag or digest."
  }
}

variable "command" {
  description = "Container command (ISSUE 12: `lakeml transform --json`)."
  type        = list(string)
  default     = ["lakeml", "transform", "--json"]
}

variable "container_name" {
  description = "Name of the dbt container (the state machine overrides it by this name)."
  type        = string
  default     = "dbt"
}

variable "environment" {
  description = "Further LAKEML_* settings of the task (the module sets env, home, region, lake bucket, glue role and target)."
  type        = map(string)
  default     = {}
}

variable "lake_bucket_name" {
  description = "Name of the lake bucket."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string
}

variable "bronze_prefix" {
  description = "Key prefix of bronze (its _visible/ index is read by the build)."
  type        = string
  default     = "bronze"
}

variable "runs_prefix" {
  description = "Key prefix of the flow's run records (runs/dbt/ is written by the build)."
  type        = string
  default     = "runs"
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK."
  type        = string
}

variable "glue_role_arn" {
  description = "Role the dbt-glue sessions run as (infra/modules/glue); the only role the task may pass."
  type        = string
}

variable "glue_databases" {
  description = "Glue databases dbt reads through the API (every layer and predictions)."
  type        = list(string)
  default     = ["bronze", "silver", "gold", "quarantine", "predictions"]
}

variable "model_databases" {
  description = "Databases of the models dbt builds (their table docs are updated)."
  type        = list(string)
  default     = ["silver", "gold", "quarantine"]
}

variable "vpc_id" {
  description = "VPC of the task's security group; null creates none (then give security_group_ids to the flow)."
  type        = string
  default     = null
}

variable "cpu" {
  description = "Fargate CPU units of the task (the Spark work runs in Glue, not here)."
  type        = number
  default     = 1024
}

variable "memory_mb" {
  description = "Fargate memory (MB) of the task."
  type        = number
  default     = 2048
}

variable "log_retention_days" {
  description = "Days the task's logs are kept."
  type        = number
  default     = 30
}
