# The root module pins Terraform's provider exactly; .terraform.lock.hcl (committed) pins its checksum.
terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }
}

provider "aws" {
  region = var.region
  # Refuses to run against any other account: applying dev's plan to prod's credentials fails at once.
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      project     = "lakeml"
      environment = local.env
      managed_by  = "terraform"
      repository  = "lakeml/infra/envs/${local.env}"
    }
  }
}
