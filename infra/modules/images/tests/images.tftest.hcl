mock_provider "aws" {}

variables {
  name_prefix = "lakeml-test"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "one_immutable_scanned_kms_repository_per_image" {
  assert {
    condition     = toset(keys(aws_ecr_repository.image)) == toset(["ml", "lambda"]) && aws_ecr_repository.image["lambda"].name == "lakeml-test-lambda"
    error_message = "one repository per image, named <name_prefix>-<image>"
  }
  assert {
    condition = alltrue([
      for repo in aws_ecr_repository.image : repo.image_tag_mutability == "IMMUTABLE"
      && repo.image_scanning_configuration[0].scan_on_push
      && repo.encryption_configuration[0].encryption_type == "KMS"
      && repo.encryption_configuration[0].kms_key == var.kms_key_arn
    ])
    error_message = "tags immutable, scanned on push, encrypted with the CMK"
  }
  assert {
    condition = alltrue([
      for name, policy in aws_ecr_lifecycle_policy.image :
      jsondecode(policy.policy).rules[1].selection.countNumber == 30 && jsondecode(policy.policy).rules[0].selection.tagStatus == "untagged"
    ])
    error_message = "each repository expires untagged images and keeps the newest 30"
  }
}

run "rejects_too_few_kept_images" {
  command = plan
  variables {
    keep_images = 1
  }
  expect_failures = [var.keep_images]
}
