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

  validation {
    condition     = !(var.env == "prod" && var.throwaway)
    error_message = "prod cannot be throwaway: it would lose deletion protection and let destroy empty the lake. Set throwaway = false."
  }
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
  description = "IAM users or roles that may assume the model approver role (with MFA). Required in staging and prod; empty in dev creates no approver role. Never an account root."
  type        = list(string)
  default     = []

  validation {
    condition     = var.env == "dev" || length(var.approver_principal_arns) > 0
    error_message = "approver_principal_arns is empty: staging and prod need the named principals (IAM users or roles of people) who may approve model versions."
  }
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

variable "private_networking" {
  description = "Run the Lambdas and the SageMaker jobs and models in subnet_ids (security group from the network module, HTTPS out only), reaching AWS through the VPC endpoints; needs vpc_id, subnet_ids and route_table_ids. On in staging and prod."
  type        = bool
  default     = false

  validation {
    condition     = !var.private_networking || (var.vpc_id != null && length(var.subnet_ids) > 0 && length(var.route_table_ids) > 0)
    error_message = "private_networking needs vpc_id, subnet_ids (private subnets) and route_table_ids (their route tables, for the S3 and DynamoDB gateway endpoints)."
  }
}

variable "access_analyzer" {
  description = "Create the account's IAM Access Analyzer. On in staging and prod; off in dev (the emulator has no Access Analyzer API) or where an organisation analyzer exists."
  type        = bool
  default     = true
}

variable "audit_log_retention_days" {
  description = "Days CloudTrail log files are kept (at least 90)."
  type        = number
  default     = 365
}
