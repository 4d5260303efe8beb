variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
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

variable "prefixes" {
  description = "Lake key prefixes the ML roles use (gold: input, ml: executions and tuning, predictions: batch scores, registry: approval history)."
  type = object({
    gold        = string
    ml          = string
    predictions = string
    registry    = string
  })
  default = {
    gold        = "gold"
    ml          = "ml"
    predictions = "predictions"
    registry    = "registry"
  }
}

variable "image_uri" {
  description = "ECR URI of the one lakeml ML image (processing, training, serving); its repository is the only one the execution role may pull from."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image URI with a tag or digest (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>)."
  }
}

variable "model_package_group_name" {
  description = "Model package group of the churn model (ml_pipelines/pipeline.py DEFAULT_MODEL_PACKAGE_GROUP)."
  type        = string
  default     = "lakeml-churn"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_package_group_name))
    error_message = "model_package_group_name must be 1-63 letters, digits and single hyphens (the SageMaker pattern)."
  }
}

variable "execution_role_name" {
  description = "Name of the SageMaker execution role. Null gives <name_prefix>-sagemaker-execution."
  type        = string
  default     = null
}

variable "pipeline_lambda_arns" {
  description = "Lambda functions the pipeline's Lambda steps may invoke (e.g. the deploy function). Empty: none."
  type        = list(string)
  default     = []
}

variable "approver_principal_arns" {
  description = "IAM principals (roles of people, e.g. an SSO permission set's role) that may assume the approver role. Empty trusts the account, leaving the choice to identity policies."
  type        = list(string)
  default     = []
}

variable "on_approved_target_arn" {
  description = "ARN the \"model version Approved\" event goes to (a Lambda or a Step Functions state machine that deploys). Null: the rule exists without a target."
  type        = string
  default     = null
}

variable "on_approved_target_role_arn" {
  description = "Role EventBridge assumes to reach a non-Lambda target (Step Functions needs one). Ignored for a Lambda, which gets a resource permission instead."
  type        = string
  default     = null

  validation {
    condition = (
      var.on_approved_target_arn == null
      || can(regex(":lambda:", var.on_approved_target_arn))
      || var.on_approved_target_role_arn != null
    )
    error_message = "on_approved_target_role_arn is required when on_approved_target_arn is not a Lambda function (EventBridge needs a role to start a state machine)."
  }
}
