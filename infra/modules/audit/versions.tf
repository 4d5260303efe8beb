# A reusable module states the oldest versions it is tested with; the root modules in infra/envs pin the
# provider exactly (and commit the lock file), so what is applied is always 5.100.0 until an env moves.
terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 6.0.0"
    }
  }
}
