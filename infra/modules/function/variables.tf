variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "name" {
  description = "Short name of the function; it is <name_prefix>-<name> (role and log group alike)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be lowercase letters, digits and '-'."
  }
}

variable "handler" {
  description = "Dotted path of the handler the image's runtime interface client calls (image_config.command), e.g. lakeml.handlers.notify.handler."
  type        = string

  validation {
    condition     = can(regex("^lakeml\\.handlers\\.[a-z_]+\\.handler$", var.handler))
    error_message = "handler must be lakeml.handlers.<module>.handler (tests/test_entrypoints.py checks it exists)."
  }
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "image_uri" {
  description = "ECR URI (tag or digest) of the lakeml Lambda image."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image URI with a tag or digest; Lambda only runs images from ECR."
  }
}

variable "environment" {
  description = "LAKEML_* settings of this function beyond LAKEML_ENV, LAKEML_HOME, LAKEML_LOG_LEVEL and LAKEML_AWS__REGION (set here)."
  type        = map(string)
  default     = {}
}

variable "policy_statements" {
  description = "IAM statements (each with a Sid) of what the handler's code calls; the module adds its own logs and X-Ray."
  type        = any
  default     = []
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK: encrypts the log group and the environment."
  type        = string
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "Log level of the function."
  type        = string
  default     = "INFO"
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the EMF metrics the handler emits (lakeml/core/metrics.py)."
  type        = string
  default     = "lakeml"
}

variable "memory_mb" {
  description = "Lambda memory (MB)."
  type        = number
  default     = 512
}

variable "timeout_seconds" {
  description = "Lambda timeout."
  type        = number
  default     = 300

  validation {
    condition     = var.timeout_seconds >= 3 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 3 and 900 (the Lambda maximum)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved (and maximum) concurrent executions; null leaves it unreserved."
  type        = number
  default     = null
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

variable "key_statements" {
  description = "IAM statements for the keys the function passes to AWS services (e.g. a CMK SageMaker encrypts an endpoint with), kept in a second inline policy `keys` beside the least-privilege one. Empty: none."
  type        = any
  default     = []
}
