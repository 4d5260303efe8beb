variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "image_uri" {
  description = "ECR image URI (with tag or digest) of the ingestion Lambda, e.g. <account>.dkr.ecr.<region>.amazonaws.com/lakeml-ingestion:<git sha>."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image URI with a tag or digest (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>); Lambda only runs images from ECR."
  }
}

variable "image_command" {
  description = "Handler the image's Lambda runtime interface client calls."
  type        = list(string)
  default     = ["lakeml.handlers.ingest.handler"]
}

variable "lake_bucket_name" {
  description = "Name of the lake bucket."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string
}

variable "bronze_prefix" {
  description = "Key prefix of bronze (landed rows and bronze/_manifests)."
  type        = string
  default     = "bronze"
}

variable "quarantine_prefix" {
  description = "Key prefix of quarantined rows."
  type        = string
  default     = "quarantine"
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK (encrypts the lake, the table, the secret, the DLQ and the log group)."
  type        = string
}

variable "watermark_table_name" {
  description = "Name of the DynamoDB watermark table."
  type        = string
}

variable "watermark_table_arn" {
  description = "ARN of the DynamoDB watermark table."
  type        = string
}

variable "source_secret_arn" {
  description = "ARN of an existing Secrets Manager secret with the Snowflake credentials. Null creates an empty one (<name_prefix>/snowflake) for you to fill."
  type        = string
  default     = null
}

variable "secret_recovery_window_days" {
  description = "Days a deleted source secret can still be restored (0 deletes at once; only for throwaway envs)."
  type        = number
  default     = 30
}

variable "schedule_expression" {
  description = "EventBridge schedule of the ingestion run (UTC)."
  type        = string
  default     = "cron(0 2 * * ? *)"
}

variable "schedule_enabled" {
  description = "Whether the schedule fires. Off lets an env exist without pulling from Snowflake."
  type        = bool
  default     = true
}

variable "memory_mb" {
  description = "Lambda memory (MB); CPU scales with it, and a chunk of rows is held in memory while it is checked and encoded."
  type        = number
  default     = 2048
}

variable "timeout_seconds" {
  description = "Lambda timeout. A run that cannot finish in it is retried and resumes (runs are idempotent)."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout_seconds >= 30 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 30 and 900 (the Lambda maximum)."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved (and capped). 1 serialises runs, so a scheduled run and a retry never race for the same watermark. Null leaves it unreserved."
  type        = number
  default     = 1

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1, false)
    error_message = "reserved_concurrency must be null (unreserved) or at least 1; 0 would throttle every invocation."
  }
}

variable "max_retry_attempts" {
  description = "Retries of a failed asynchronous invocation before the event goes to the DLQ (0-2)."
  type        = number
  default     = 2

  validation {
    condition     = var.max_retry_attempts >= 0 && var.max_retry_attempts <= 2
    error_message = "max_retry_attempts must be 0, 1 or 2 (the Lambda limit)."
  }
}

variable "max_event_age_seconds" {
  description = "How long an asynchronous event may wait (throttled behind a running invocation) before it goes to the DLQ."
  type        = number
  default     = 21600
}

variable "log_retention_days" {
  description = "Days the function's CloudWatch logs are kept."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "Log level of lakeml and Powertools in the function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "vpc_config" {
  description = "Private networking: the subnets and security groups the function runs in (its role then gets AWSLambdaVPCAccessExecutionRole for the network interfaces). Null: outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.vpc_config == null || (length(try(var.vpc_config.subnet_ids, [])) > 0 && length(try(var.vpc_config.security_group_ids, [])) > 0)
    error_message = "vpc_config needs at least one subnet and one security group."
  }
}
