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
  description = "Layer -> key prefix in the lake (and predictions -> its prefix). Each becomes a Glue database of the same name, located at s3://<lake>/<prefix>/ (dbt schemas: profiles/profiles.yml, dbt_project.yml)."
  type        = map(string)
  default = {
    bronze      = "bronze"
    silver      = "silver"
    gold        = "gold"
    quarantine  = "quarantine"
    predictions = "predictions"
  }

  validation {
    condition     = alltrue([for layer in ["bronze", "silver", "gold", "quarantine", "predictions"] : contains(keys(var.layers), layer)])
    error_message = "layers must contain bronze, silver, gold, quarantine and predictions."
  }
}

variable "read_only_layers" {
  description = "Layers whose objects dbt reads but never writes: bronze belongs to ingestion, predictions to batch scoring (dbt only catalogs them)."
  type        = list(string)
  default     = ["bronze", "predictions"]
}

variable "registered_databases" {
  description = "Databases register_bronze.sql creates if missing (dbt_project/macros/register_bronze.sql)."
  type        = list(string)
  default     = ["bronze", "predictions"]
}
