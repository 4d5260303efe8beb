# State lives in S3, one key per env, locked with S3's native lock file (Terraform >= 1.10, no DynamoDB
# lock table). The bucket is per account and created once, by hand or a bootstrap stack, before the first
# init; it is not managed here (a stack cannot hold its own state bucket). Give it at init:
#
#   terraform -chdir=infra/envs/dev init \
#     -backend-config="bucket=<account>-lakeml-tfstate" -backend-config="region=<region>"
#
# Validation and tests run `init -backend=false`, which skips this block entirely.
terraform {
  backend "s3" {
    key          = "lakeml/dev/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
