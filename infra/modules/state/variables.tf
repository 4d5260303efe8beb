variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "table_name" {
  description = "Name of the watermark table. Null gives <name_prefix>-watermarks."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of the CMK the table is encrypted with (the lake key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable. Losing the watermarks makes the next run re-extract everything."
  type        = bool
  default     = true
}
