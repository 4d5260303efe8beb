variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and '-', starting with a letter."
  }
}

variable "bucket_name" {
  description = "Name of the lake bucket. Null derives a globally unique one: <name_prefix>-lake-<account id>-<region>."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a non-empty bucket. Only for throwaway envs: the lake is the record of every ingested row."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Days a scheduled deletion of the CMK waits (7-30). Deleting the key makes every object unreadable, so keep it long."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "quarantine_retention_days" {
  description = "Days rejected rows stay under quarantine/ before S3 expires them."
  type        = number
  default     = 90

  validation {
    condition     = var.quarantine_retention_days >= 1
    error_message = "quarantine_retention_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept (the window in which a bad rewrite can be undone)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs of the lake are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}
