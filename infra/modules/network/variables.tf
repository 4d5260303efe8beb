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
  description = "Services reached through interface endpoints (suffixes of com.amazonaws.<region>.): what the runtimes in private subnets call without a NAT gateway. ecr.api/ecr.dkr/logs (image pulls, logs), sts, secretsmanager (ingestion's source secret), glue (dbt-glue sessions, the catalog), sagemaker.api/sagemaker.runtime/sagemaker.featurestore-runtime (pipelines, registry, deploys, IngestFeatures), application-autoscaling (the deployer), sns (notify), states (the flow's callers), monitoring (metrics)."
  type        = list(string)
  default = [
    "sts", "logs", "ecr.api", "ecr.dkr", "secretsmanager", "glue", "sagemaker.api", "sagemaker.runtime",
    "sagemaker.featurestore-runtime", "application-autoscaling", "sns", "states", "monitoring",
  ]

  validation {
    condition     = length(var.interface_services) == length(distinct(var.interface_services))
    error_message = "interface_services must not repeat a service."
  }
}
