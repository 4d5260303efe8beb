output "model_package_group_name" {
  description = "Name of the model package group."
  value       = aws_sagemaker_model_package_group.churn.model_package_group_name
}

output "model_package_group_arn" {
  description = "ARN of the model package group."
  value       = aws_sagemaker_model_package_group.churn.arn
}

output "execution_role_arn" {
  description = "ARN of the SageMaker execution role (LAKEML_AWS__SAGEMAKER_ROLE_ARN)."
  value       = aws_iam_role.execution.arn
}

output "approver_role_arn" {
  description = "ARN of the role that alone may approve model versions (null without approver_principal_arns)."
  value       = one(aws_iam_role.approver[*].arn)
}

output "approver_policy_arn" {
  description = "ARN of the approver policy (attach it to an SSO permission set to approve without assuming the role)."
  value       = aws_iam_policy.approver.arn
}

output "approved_rule_arn" {
  description = "ARN of the EventBridge rule matching approved versions."
  value       = aws_cloudwatch_event_rule.approved.arn
}

output "feature_group_name" {
  description = "Name of the feature group (IngestFeatures' --feature-group)."
  value       = aws_sagemaker_feature_group.features.feature_group_name
}

output "pipeline_names" {
  description = "training/scoring -> SageMaker pipeline name (the flow starts them by name)."
  value       = var.pipeline_names
}

output "pipeline_arns" {
  description = "Pipelines created from their definition files."
  value       = { for key, p in aws_sagemaker_pipeline.pipeline : key => p.arn }
}
