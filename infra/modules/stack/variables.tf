variable "env" {
  description = "Environment name: dev, staging or prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.env)
    error_message = "env must be dev, staging or prod."
  }
}

variable "name_prefix" {
  description = "Prefix of every name. Null gives lakeml-<env>."
  type        = string
  default     = null
}

variable "ingestion_image_uri" {
  description = "ECR URI (tag or digest) of the ingestion Lambda image."
  type        = string
}

variable "ml_image_uri" {
  description = "ECR URI (tag or digest) of the lakeml ML image (processing, training, serving)."
  type        = string
}

variable "lake_bucket_name" {
  description = "Lake bucket name; null derives <name_prefix>-lake-<account>-<region>."
  type        = string
  default     = null
}

variable "throwaway" {
  description = "A throwaway env: destroy empties buckets, secrets and keys go at once, the table may be deleted. Never for prod."
  type        = bool
  default     = false
}

variable "quarantine_retention_days" {
  description = "Days quarantined rows are kept."
  type        = number
  default     = 90
}

variable "log_retention_days" {
  description = "Days Lambda logs are kept."
  type        = number
  default     = 30
}

variable "source_secret_arn" {
  description = "Existing Snowflake credentials secret; null creates an empty <name_prefix>/snowflake."
  type        = string
  default     = null
}

variable "ingestion_schedule" {
  description = "EventBridge schedule expression of ingestion (UTC)."
  type        = string
  default     = "cron(0 2 * * ? *)"
}

variable "ingestion_schedule_enabled" {
  description = "Whether scheduled ingestion runs."
  type        = bool
  default     = true
}

variable "ingestion_reserved_concurrency" {
  description = "Reserved (and maximum) concurrent ingestion runs; null for unreserved."
  type        = number
  default     = 1
}

variable "log_level" {
  description = "Log level of the ingestion Lambda."
  type        = string
  default     = "INFO"
}

variable "model_package_group_name" {
  description = "SageMaker model package group of the churn model."
  type        = string
  default     = "lakeml-churn"
}

variable "approver_principal_arns" {
  description = "Principals that may assume the model approver role; empty trusts the account."
  type        = list(string)
  default     = []
}

variable "on_approved_target_arn" {
  description = "Deploy target of the model-approved rule (Lambda or state machine); null for none yet."
  type        = string
  default     = null
}

variable "on_approved_target_role_arn" {
  description = "Role EventBridge uses for a non-Lambda deploy target."
  type        = string
  default     = null
}

variable "pipeline_lambda_arns" {
  description = "Lambdas the SageMaker pipeline's Lambda steps may invoke."
  type        = list(string)
  default     = []
}

variable "alert_emails" {
  description = "Addresses subscribed to alerts."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC for the optional endpoints; null creates none."
  type        = string
  default     = null
}

variable "route_table_ids" {
  description = "Private route tables for the S3/DynamoDB gateway endpoints."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets for the interface endpoints."
  type        = list(string)
  default     = []
}
