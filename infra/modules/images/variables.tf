variable "name_prefix" {
  description = "Prefix of every name in this env, e.g. \"lakeml-dev\"."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the lake CMK; it encrypts the image layers."
  type        = string
}

variable "images" {
  description = "Images built from the Dockerfile's targets; each gets the repository <name_prefix>-<image>."
  type        = list(string)
  default     = ["ml", "lambda"]
}

variable "keep_images" {
  description = "Tagged images kept per repository (older ones expire)."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_images >= 5
    error_message = "keep_images must be at least 5: fewer leaves nothing to roll back to."
  }
}

variable "force_delete" {
  description = "Let `terraform destroy` delete repositories that still hold images (throwaway envs only)."
  type        = bool
  default     = false
}
