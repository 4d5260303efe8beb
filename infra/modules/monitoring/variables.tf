variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK (encrypts both topics; its policy lets CloudWatch alarms publish)."
  type        = string
}

variable "metrics_file" {
  description = "The metric catalog rendered from lakeml/core/metrics.py. Null: metrics.json of this module."
  type        = string
  default     = null
}

variable "email_subscribers" {
  description = "Addresses subscribed to both topics (each must confirm each subscription)."
  type        = list(string)
  default     = []
}

variable "escalation_factor" {
  description = "A warning alarm still breaching after this many times its evaluation periods notifies the critical topic."
  type        = number
  default     = 6

  validation {
    condition     = var.escalation_factor >= 2
    error_message = "escalation_factor must be at least 2 (1 would escalate every warning at once)."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the alarms on AWS metrics and of the dashboard."
  type        = number
  default     = 300
}

variable "dlq_name" {
  description = "Name of the ingestion failure queue (the catalog's QueueName dimension)."
  type        = string
}

variable "function_names" {
  description = "Component -> Lambda function name; each function's errors raise a warning."
  type        = map(string)
  default     = {}
}

variable "state_machine_arn" {
  description = "ARN of the daily flow; a failed, timed-out or aborted execution is critical."
  type        = string
}

variable "endpoint_name" {
  description = "Endpoint the catalog's endpoint alarms (the deployer's rollback alarms) watch: ml_pipelines/serving/deploy/port.py PRODUCTION_ENDPOINT."
  type        = string
  default     = "lakeml-churn"
}

variable "endpoint_variant" {
  description = "Production variant of the endpoint (SageMakerDeployConfig.variant_name)."
  type        = string
  default     = "AllTraffic"
}

variable "log_groups" {
  description = "Component -> its log groups; each component gets a saved Logs Insights query of its errors."
  type        = map(list(string))
  default     = {}
}
