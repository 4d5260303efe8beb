mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/ci", user_id = "AIDAEXAMPLE" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_sagemaker_model_package_group" {
    defaults = { arn = "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/lakeml-churn" }
  }
  mock_resource "aws_iam_policy" {
    defaults = { arn = "arn:aws:iam::123456789012:policy/lakeml-test-model-approver" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/lakeml-test-model-approved" }
  }
}

override_resource {
  target = aws_iam_role.execution
  values = { arn = "arn:aws:iam::123456789012:role/lakeml-test-sagemaker-execution" }
}

override_resource {
  target = aws_iam_role.approver
  values = { arn = "arn:aws:iam::123456789012:role/lakeml-test-model-approver" }
}

variables {
  name_prefix     = "lakeml-test"
  lake_bucket_arn = "arn:aws:s3:::lakeml-test-lake"
  kms_key_arn     = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  image_uri       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml:0a1b2c3"

  on_approval_function_arn        = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test-on-approval"
  on_pipeline_failed_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test-notify"
  approver_principal_arns         = ["arn:aws:iam::123456789012:role/data-science-lead"]
}

run "only_the_approver_may_update_model_packages" {
  assert {
    condition = (
      local.approver_by_sid.ApproveVersionsOfTheGroup.Effect == "Allow"
      && local.approver_by_sid.ApproveVersionsOfTheGroup.Action == "sagemaker:UpdateModelPackage"
      && local.approver_by_sid.ApproveVersionsOfTheGroup.Resource == "arn:aws:sagemaker:eu-west-1:123456789012:model-package/lakeml-churn/*"
    )
    error_message = "the approver may update versions of the churn group (and no other group)"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.approver[0].role == aws_iam_role.approver[0].name && aws_iam_role_policy_attachment.approver[0].policy_arn == aws_iam_policy.approver.arn
    error_message = "the approver policy must be attached to the approver role"
  }
  assert {
    condition     = local.approver_by_sid.ApprovalHistoryList.Action == "s3:ListBucket" && local.approver_by_sid.ApprovalHistoryList.Condition.StringLike["s3:prefix"] == ["registry/lakeml-churn/*"]
    error_message = "the approver lists its group's registry prefix, so a version's first decision reads 404 (no history yet), not 403"
  }
  assert {
    condition = (
      local.execution_by_sid.NeverApprove.Effect == "Deny"
      && local.execution_by_sid.NeverApprove.Action == "sagemaker:UpdateModelPackage"
      && local.execution_by_sid.NeverApprove.Resource == "*"
    )
    error_message = "the pipeline's execution role must be explicitly denied UpdateModelPackage"
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : [
        for a in flatten([s.Action]) : !(s.Effect == "Allow" && (a == "sagemaker:UpdateModelPackage" || a == "sagemaker:*" || a == "sagemaker:Update*"))
      ]
    ]))
    error_message = "no Allow in the execution role may cover UpdateModelPackage"
  }
}

run "execution_role_reads_gold_and_writes_ml_outputs_only" {
  assert {
    condition     = local.execution_by_sid.LakeReadGold.Action == "s3:GetObject" && local.execution_by_sid.LakeReadGold.Resource == "arn:aws:s3:::lakeml-test-lake/gold/*"
    error_message = "gold is read-only for the pipeline"
  }
  assert {
    condition = toset(local.execution_by_sid.LakeWriteMlAndPredictions.Resource) == toset([
      "arn:aws:s3:::lakeml-test-lake/ml/*", "arn:aws:s3:::lakeml-test-lake/predictions/*",
    ])
    error_message = "the pipeline writes ml/ and predictions/ only"
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.execution.policy, "/bronze/") && !strcontains(aws_iam_role_policy.execution.policy, "/silver/")
    error_message = "the pipeline never touches bronze or silver"
  }
  assert {
    condition     = local.execution_by_sid.PassOwnRoleToSageMaker.Resource == aws_iam_role.execution.arn && local.execution_by_sid.PassOwnRoleToSageMaker.Condition.StringEquals["iam:PassedToService"] == "sagemaker.amazonaws.com"
    error_message = "the role may pass only itself, only to SageMaker"
  }
  assert {
    condition     = local.execution_by_sid.PullTheOneImage.Resource == "arn:aws:ecr:eu-west-1:123456789012:repository/lakeml"
    error_message = "image pulls are limited to the repository of image_uri"
  }
  assert {
    condition     = aws_iam_role.execution.name == "lakeml-test-sagemaker-execution"
    error_message = "the execution role is <name_prefix>-sagemaker-execution (ml_pipelines' default is lakeml-sagemaker-execution)"
  }
}

run "approved_versions_reach_the_on_approval_lambda" {
  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_rule.approved.event_pattern).source == ["aws.sagemaker"]
      && jsondecode(aws_cloudwatch_event_rule.approved.event_pattern)["detail-type"] == ["SageMaker Model Package State Change"]
      && jsondecode(aws_cloudwatch_event_rule.approved.event_pattern).detail.ModelApprovalStatus == ["Approved"]
      && jsondecode(aws_cloudwatch_event_rule.approved.event_pattern).detail.ModelPackageGroupName == ["lakeml-churn"]
    )
    error_message = "the rule must match Approved state changes of the churn group only"
  }
  assert {
    condition     = aws_cloudwatch_event_target.approved.arn == var.on_approval_function_arn
    error_message = "the rule must target the on-approval Lambda"
  }
  assert {
    condition     = aws_lambda_permission.approved.source_arn == aws_cloudwatch_event_rule.approved.arn && aws_lambda_permission.approved.principal == "events.amazonaws.com"
    error_message = "the Lambda target must allow this rule (and only it) to invoke it"
  }
}

run "approval_target_must_be_a_lambda" {
  command = plan
  variables {
    on_approval_function_arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakeml-test-deploy"
  }
  expect_failures = [var.on_approval_function_arn]
}

run "failed_pipeline_executions_reach_notify" {
  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_rule.pipeline_failed.event_pattern)["detail-type"] == ["SageMaker Model Building Pipeline Execution Status Change"]
      && jsondecode(aws_cloudwatch_event_rule.pipeline_failed.event_pattern).detail.currentPipelineExecutionStatus == ["Failed"]
      && toset(jsondecode(aws_cloudwatch_event_rule.pipeline_failed.event_pattern).detail.pipelineArn) == toset([
        "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-training", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-batch-scoring",
      ])
    )
    error_message = "the rule matches failed executions of the two lakeml pipelines only"
  }
  assert {
    condition     = aws_cloudwatch_event_target.pipeline_failed.arn == var.on_pipeline_failed_function_arn && length(aws_cloudwatch_event_target.pipeline_failed.input_transformer) == 0
    error_message = "notify receives the raw status change event (lakeml.notify.events.parse reads it)"
  }
  assert {
    condition     = aws_lambda_permission.pipeline_failed.source_arn == aws_cloudwatch_event_rule.pipeline_failed.arn
    error_message = "only this rule may invoke notify for pipeline failures"
  }
}

run "feature_group_is_the_codes_with_the_offline_store_in_the_lake" {
  assert {
    condition = (
      aws_sagemaker_feature_group.features.feature_group_name == "lakeml-customer-features"
      && aws_sagemaker_feature_group.features.record_identifier_feature_name == "customer_id"
      && aws_sagemaker_feature_group.features.event_time_feature_name == "snapshot_date"
      && length(aws_sagemaker_feature_group.features.feature_definition) == length(jsondecode(file("feature_group.json")).definitions)
    )
    error_message = "the group has the name, ids and features IngestFeatures expects (feature_group.json)"
  }
  assert {
    condition = (
      one(one(aws_sagemaker_feature_group.features.offline_store_config).s3_storage_config).s3_uri == "s3://lakeml-test-lake/feature_store"
      && one(one(aws_sagemaker_feature_group.features.offline_store_config).s3_storage_config).kms_key_id == var.kms_key_arn
      && one(one(aws_sagemaker_feature_group.features.offline_store_config).data_catalog_config).database == "feature_store"
      && aws_sagemaker_feature_group.features.role_arn == aws_iam_role.execution.arn
    )
    error_message = "the offline store is the lake's feature_store/ prefix, under the CMK, catalogued in feature_store"
  }
  assert {
    condition = (
      local.execution_by_sid.FeatureStore.Resource == "arn:aws:sagemaker:eu-west-1:123456789012:feature-group/lakeml-customer-features"
      && contains(local.execution_by_sid.FeatureStore.Action, "sagemaker:PutRecord")
      && local.execution_by_sid.OfflineStoreWrite.Resource == "arn:aws:s3:::lakeml-test-lake/feature_store/*"
      && contains(local.execution_by_sid.OfflineStoreCatalog.Resource, "arn:aws:glue:eu-west-1:123456789012:table/feature_store/*")
    )
    error_message = "the execution role may use this feature group, write its offline store and keep its Glue table"
  }
  assert {
    condition     = local.execution_by_sid.LakeReadDbtRuns.Resource == "arn:aws:s3:::lakeml-test-lake/runs/dbt/*" && local.execution_by_sid.LakeReadDbtRuns.Action == "s3:GetObject"
    error_message = "training reads runs/dbt/ (lineage) and writes nothing there"
  }
}

run "pipelines_come_from_their_definition_files" {
  variables {
    pipeline_definition_files = { training = "tests/pipeline.sample.json" }
  }
  assert {
    condition = (
      toset(keys(aws_sagemaker_pipeline.pipeline)) == toset(["training"])
      && aws_sagemaker_pipeline.pipeline["training"].pipeline_name == "lakeml-churn-training"
      && aws_sagemaker_pipeline.pipeline["training"].pipeline_definition == file("tests/pipeline.sample.json")
      && aws_sagemaker_pipeline.pipeline["training"].role_arn == aws_iam_role.execution.arn
    )
    error_message = "a pipeline is created from its definition file, named as the code names it, run by the execution role"
  }
}

run "no_definition_files_no_pipelines" {
  assert {
    condition     = length(aws_sagemaker_pipeline.pipeline) == 0
    error_message = "without definition files (first apply) no pipeline is created"
  }
}

run "the_approver_role_trusts_named_principals_with_mfa_only" {
  assert {
    condition     = jsondecode(aws_iam_role.approver[0].assume_role_policy).Statement[0].Principal.AWS == ["arn:aws:iam::123456789012:role/data-science-lead"]
    error_message = "the approver role is trusted by the named principals, not the account"
  }
  assert {
    condition     = jsondecode(aws_iam_role.approver[0].assume_role_policy).Statement[0].Condition.Bool["aws:MultiFactorAuthPresent"] == "true"
    error_message = "assuming the approver role needs a session signed in with MFA"
  }
  assert {
    condition     = length(jsondecode(aws_iam_role.approver[0].assume_role_policy).Statement) == 1
    error_message = "one trust statement: nothing else may assume the approver role"
  }
}

run "no_principals_no_approver_role" {
  variables {
    approver_principal_arns = []
  }
  assert {
    condition     = length(aws_iam_role.approver) == 0 && length(aws_iam_role_policy_attachment.approver) == 0 && output.approver_role_arn == null
    error_message = "without named principals there is no approver role (never one the whole account may assume)"
  }
  assert {
    condition     = local.approver_by_sid.ApproveVersionsOfTheGroup.Action == "sagemaker:UpdateModelPackage"
    error_message = "the approver policy remains, to attach to an SSO permission set"
  }
}

run "the_account_root_is_never_an_approver" {
  command = plan
  variables {
    approver_principal_arns = ["arn:aws:iam::123456789012:root"]
  }
  expect_failures = [var.approver_principal_arns]
}

run "feature_store_and_jobs_use_the_cmk" {
  assert {
    condition     = one(one(aws_sagemaker_feature_group.features.online_store_config).security_config).kms_key_id == var.kms_key_arn
    error_message = "the online store is encrypted with the CMK"
  }
  assert {
    condition     = one(one(aws_sagemaker_feature_group.features.offline_store_config).s3_storage_config).kms_key_id == var.kms_key_arn
    error_message = "the offline store is encrypted with the CMK"
  }
  assert {
    condition = (
      local.keys_by_sid.JobKeyGrantsThroughSageMaker.Action == "kms:CreateGrant"
      && local.keys_by_sid.JobKeyGrantsThroughSageMaker.Resource == var.kms_key_arn
      && local.keys_by_sid.JobKeyGrantsThroughSageMaker.Condition.Bool["kms:GrantIsForAWSResource"] == "true"
      && local.keys_by_sid.JobKeyGrantsThroughSageMaker.Condition.StringEquals["kms:ViaService"] == "sagemaker.eu-west-1.amazonaws.com"
    )
    error_message = "the execution role may let SageMaker create grants on the CMK for its jobs' volumes, and only through SageMaker"
  }
  assert {
    condition     = local.keys_by_sid.CatalogKeyThroughGlue.Condition.StringEquals["kms:ViaService"] == "glue.eu-west-1.amazonaws.com"
    error_message = "the offline store's table in the encrypted catalog needs the key through Glue"
  }
  assert {
    condition     = !contains(keys(local.keys_by_sid), "JobNetworkInterfaces")
    error_message = "no network-interface grants without private networking"
  }
}

run "private_jobs_may_manage_their_network_interfaces" {
  variables {
    private_networking = true
  }
  assert {
    condition     = contains(local.keys_by_sid.JobNetworkInterfaces.Action, "ec2:CreateNetworkInterface") && contains(local.keys_by_sid.JobNetworkInterfaces.Action, "ec2:CreateNetworkInterfacePermission")
    error_message = "SageMaker makes the network interfaces of jobs in private subnets as the execution role"
  }
}
