variable "account_id" {
  description = "AWS account this env lives in; the provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be the 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region of the env."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_image_uri" {
  description = "ECR URI (tag or digest) of the lakeml Lambda image, e.g. from `make images`: <account>.dkr.ecr.<region>.amazonaws.com/lakeml-<env>-lambda:<git sha>."
  type        = string
}

variable "ml_image_uri" {
  description = "ECR URI (tag or digest) of the lakeml ML image (SageMaker jobs, endpoints, the dbt task)."
  type        = string
}

variable "flow_schedule_enabled" {
  description = "Run the daily flow on its schedule. Leave off until the Snowflake secret holds its value (docs/aws.md)."
  type        = bool
  default     = false
}

variable "pipeline_definition_files" {
  description = "training/scoring -> pipeline definition JSON rendered with this env's lakeml_env (second apply; docs/aws.md)."
  type        = map(string)
  default     = {}
}

variable "approver_principal_arns" {
  description = "Principals that may assume the model approver role; empty trusts the account."
  type        = list(string)
  default     = []
}

variable "alert_emails" {
  description = "Addresses subscribed to lakeml alerts."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC to add private endpoints to; null for none."
  type        = string
  default     = null
}

variable "route_table_ids" {
  description = "Private route tables (gateway endpoints)."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets (interface endpoints)."
  type        = list(string)
  default     = []
}
