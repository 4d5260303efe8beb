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

variable "ingestion_image_uri" {
  description = "ECR URI (tag or digest) of the ingestion Lambda image, e.g. from CI: <account>.dkr.ecr.<region>.amazonaws.com/lakeml-ingestion:<git sha>."
  type        = string
}

variable "ml_image_uri" {
  description = "ECR URI (tag or digest) of the lakeml ML image."
  type        = string
}

variable "approver_principal_arns" {
  description = "Principals that may assume the model approver role; empty trusts the account."
  type        = list(string)
  default     = []
}

variable "on_approved_target_arn" {
  description = "Deploy target of approved model versions; null until the deploy function exists."
  type        = string
  default     = null
}

variable "on_approved_target_role_arn" {
  description = "Role EventBridge uses for a non-Lambda deploy target."
  type        = string
  default     = null
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
