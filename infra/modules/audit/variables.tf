variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket: the trail records its object-level (data) events, reads and writes."
  type        = string
}

variable "force_destroy" {
  description = "Let destroy delete the trail bucket with its logs (throwaway envs only)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the audit key is deleted after destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be 7 to 30 (the KMS limits)."
  }
}

variable "log_retention_days" {
  description = "Days trail log files are kept in the trail bucket (noncurrent versions: 30 more days)."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 90
    error_message = "log_retention_days must be at least 90: an audit trail shorter than a quarter cannot answer who did what last month."
  }
}

variable "access_analyzer" {
  description = "Create the account's IAM Access Analyzer (type ACCOUNT, one per account and region). Off where the account already has one (an organisation analyzer) or on an emulator without the API (moto)."
  type        = bool
  default     = true
}
