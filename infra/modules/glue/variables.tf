variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "lake_bucket_name" {
  description = "Name of the lake bucket."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK."
  type        = string
}

variable "layers" {
  description = "Layer -> key prefix in the lake. Each becomes a Glue database of the same name, located at s3://<lake>/<prefix>/ (dbt schemas: profiles/profiles.yml, dbt_project.yml)."
  type        = map(string)
  default = {
    bronze     = "bronze"
    silver     = "silver"
    gold       = "gold"
    quarantine = "quarantine"
  }

  validation {
    condition     = alltrue([for layer in ["bronze", "silver", "gold", "quarantine"] : contains(keys(var.layers), layer)])
    error_message = "layers must contain bronze, silver, gold and quarantine."
  }
}

variable "read_only_layers" {
  description = "Layers dbt reads but never writes: bronze belongs to ingestion."
  type        = list(string)
  default     = ["bronze"]
}
