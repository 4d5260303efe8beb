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
  description = "Lake key prefixes the ML roles use (gold: input, ml: executions and tuning, predictions: batch scores, registry: approval history, feature_store: the offline store, runs: the flow's run records)."
  type = object({
    gold          = string
    ml            = string
    predictions   = string
    registry      = string
    feature_store = string
    runs          = string
  })
  default = {
    gold          = "gold"
    ml            = "ml"
    predictions   = "predictions"
    registry      = "registry"
    feature_store = "feature_store"
    runs          = "runs"
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
  description = "IAM users or roles of the people who may assume the approver role, in a session signed in with MFA. Never the account root (that would trust every principal of the account). Empty: no approver role (the approver policy remains, to attach to an SSO permission set)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.approver_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/[A-Za-z0-9_+=,.@/-]+$", arn))])
    error_message = "approver_principal_arns must be IAM user or role ARNs (arn:aws:iam::<account>:user/<name> or :role/<name>), never an account root: the approver role is never trusted by a whole account."
  }
}

variable "on_approval_function_arn" {
  description = "The on-approval Lambda (lakeml.handlers.on_approval): the \"model version Approved\" rule invokes it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.on_approval_function_arn))
    error_message = "on_approval_function_arn must be an unqualified Lambda function ARN."
  }
}

variable "on_pipeline_failed_function_arn" {
  description = "The notify Lambda: a failed execution of either pipeline reaches it as a critical notification."
  type        = string
}

variable "feature_group_file" {
  description = "The feature group as the code defines it (tests/infra/test_feature_group.py renders it from dbt's gold column docs). Null: feature_group.json of this module."
  type        = string
  default     = null
}

variable "feature_store_database" {
  description = "Glue database of the offline store's table (created here)."
  type        = string
  default     = "feature_store"
}

variable "pipeline_definition_files" {
  description = "Pipeline -> definition JSON file (`lakeml pipeline definition [--batch] > file` with this env's `terraform output lakeml_env` exported). Keys: training, scoring. A pipeline without a file is not created (first apply: the definition bakes in ARNs this stack creates)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.pipeline_definition_files) : contains(["training", "scoring"], key)])
    error_message = "pipeline_definition_files keys must be training and/or scoring."
  }
}

variable "pipeline_names" {
  description = "Names of the pipelines (ml_pipelines/pipeline/target.py TRAINING_PIPELINE, BATCH_PIPELINE)."
  type        = object({ training = string, scoring = string })
  default     = { training = "lakeml-churn-training", scoring = "lakeml-churn-batch-scoring" }
}

variable "private_networking" {
  description = "Whether the pipeline's jobs and the endpoints' models run in private subnets (VpcConfig): the execution role then may manage their network interfaces."
  type        = bool
  default     = false
}
