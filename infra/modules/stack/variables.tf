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

variable "lambda_image_uri" {
  description = "ECR URI (tag or digest) of the lakeml Lambda image (every function: ingestion, quality, notify, on-approval, deploy-staging)."
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
  description = "Days the Lambdas', the dbt task's and the flow's logs are kept."
  type        = number
  default     = 30
}

variable "source_secret_arn" {
  description = "Existing Snowflake credentials secret; null creates an empty <name_prefix>/snowflake."
  type        = string
  default     = null
}

variable "ingestion_schedule" {
  description = "EventBridge schedule expression of ingestion alone, without the rest of the flow (UTC)."
  type        = string
  default     = "cron(0 2 * * ? *)"
}

variable "ingestion_schedule_enabled" {
  description = "Whether ingestion alone runs on ingestion_schedule. Off by default: the daily flow (flow_schedule) ingests first."
  type        = bool
  default     = false
}

variable "flow_schedule" {
  description = "EventBridge Scheduler expression of the daily flow (UTC)."
  type        = string
  default     = "cron(0 2 * * ? *)"
}

variable "flow_schedule_enabled" {
  description = "Whether the daily flow runs on flow_schedule. Turn on once the Snowflake secret holds its value (docs/aws.md); before that every run fails at ingestion."
  type        = bool
  default     = false
}

variable "flow_tables" {
  description = "Tables the scheduled flow ingests (ingestion/sources.yml)."
  type        = list(string)
  default     = ["CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS"]
}

variable "flow_pipeline_params" {
  description = "Training pipeline parameters the scheduled flow passes."
  type        = map(string)
  default     = {}
}

variable "pipeline_definition_files" {
  description = "training/scoring -> pipeline definition JSON (`lakeml pipeline definition [--batch]` with lakeml_env exported). Empty on the first apply; the pipelines are created when given."
  type        = map(string)
  default     = {}
}

variable "production_endpoint" {
  description = "Endpoint approved versions are deployed to (ml_pipelines/serving/deploy/port.py PRODUCTION_ENDPOINT)."
  type        = string
  default     = "lakeml-churn"
}

variable "staging_endpoint" {
  description = "Endpoint the pipeline's DeployStaging step deploys to (ml_pipelines/pipeline/target.py STAGING_ENDPOINT)."
  type        = string
  default     = "lakeml-churn-staging"
}

variable "ingestion_reserved_concurrency" {
  description = "Reserved (and maximum) concurrent ingestion runs, raised to the flow's Map concurrency if lower; null for unreserved."
  type        = number
  default     = 1
}

variable "log_level" {
  description = "Log level of the Lambdas and the dbt task."
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

variable "alert_emails" {
  description = "Addresses subscribed to both alert topics (warning and critical)."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC for the optional endpoints and the dbt task's security group; null creates neither."
  type        = string
  default     = null
}

variable "route_table_ids" {
  description = "Private route tables for the S3/DynamoDB gateway endpoints."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets: the interface endpoints, and where the flow runs the dbt task (needs a route to AWS APIs)."
  type        = list(string)
  default     = []
}
