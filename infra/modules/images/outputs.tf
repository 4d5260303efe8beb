output "repository_urls" {
  description = "Image -> repository URL (`make images` pushes <url>:<git sha>)."
  value       = { for image, repo in aws_ecr_repository.image : image => repo.repository_url }
}

output "repository_arns" {
  description = "Image -> repository ARN (for pull permissions)."
  value       = { for image, repo in aws_ecr_repository.image : image => repo.arn }
}
