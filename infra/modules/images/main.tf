# The ECR repositories of the two images built from the one Dockerfile (`make images`): `ml` (SageMaker
# jobs, endpoints and the dbt ECS task) and `lambda` (every lakeml Lambda, one handler per function).
# Tags are immutable, so a tag (the git sha) names one image forever and a deployed function or pipeline
# can never silently change; images are scanned on push and encrypted with the lake CMK.

locals {
  repositories = { for image in var.images : image => "${var.name_prefix}-${image}" }
}

resource "aws_ecr_repository" "image" {
  for_each = local.repositories

  name                 = each.value
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

# Untagged layers left by multi-arch or failed pushes go after a day; of the tagged images the newest
# `keep_images` stay, enough to roll any function, pipeline or endpoint back several releases.
resource "aws_ecr_lifecycle_policy" "image" {
  for_each = aws_ecr_repository.image

  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "drop untagged images after a day"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 1 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "keep the newest ${var.keep_images} images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.keep_images }
        action       = { type = "expire" }
      },
    ]
  })
}
