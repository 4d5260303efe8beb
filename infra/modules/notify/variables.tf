variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK (its policy lets CloudWatch alarms publish to a topic encrypted with it)."
  type        = string
}

variable "dlq_name" {
  description = "Name of the ingestion failure queue; any message in it raises an alarm."
  type        = string
}

variable "function_name" {
  description = "Name of the ingestion Lambda; any error raises an alarm."
  type        = string
}

variable "email_subscribers" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "alarm_period_seconds" {
  description = "Period over which each alarm looks at its metric."
  type        = number
  default     = 300
}
