variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "vpc_id" {
  description = "VPC to add endpoints to. Null creates nothing (lakeml's compute then reaches AWS APIs over their public endpoints)."
  type        = string
  default     = null
}

variable "route_table_ids" {
  description = "Route tables of the private subnets; the S3 and DynamoDB gateway endpoints are added to them."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets (one per AZ) that get the interface endpoints' network interfaces."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.subnet_ids) == length(distinct(var.subnet_ids))
    error_message = "subnet_ids must not repeat a subnet."
  }
}

variable "interface_services" {
  description = "Services reached through interface endpoints (suffixes of com.amazonaws.<region>.). ecr.api, ecr.dkr, logs and glue let the dbt Fargate task (no public IP) pull its image, log and drive Glue sessions without a NAT gateway."
  type        = list(string)
  default     = ["secretsmanager", "sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr", "logs", "glue"]
}
