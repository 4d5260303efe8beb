# SageMaker model registry and the two roles around it:
# - the execution role the pipeline's jobs run as: reads gold, writes ml/ and predictions/, may *register*
#   model versions (always PendingManualApproval, fixed in ml_pipelines/pipeline.py) but is explicitly
#   denied UpdateModelPackage, so no pipeline can approve its own model;
# - the approver role: the only lakeml role allowed UpdateModelPackage on the group.
# An EventBridge rule forwards "version Approved" to the on-approval Lambda, another a failed pipeline
# execution to the notify Lambda. Also here: the feature group (offline store in the lake, under the CMK)
# and the two SageMaker pipelines, created from their definition files.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  sm_arn     = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"

  execution_role_name = coalesce(var.execution_role_name, "${var.name_prefix}-sagemaker-execution")
  group               = aws_sagemaker_model_package_group.churn.model_package_group_name
  group_arn           = aws_sagemaker_model_package_group.churn.arn
  package_arns        = "${local.sm_arn}:model-package/${local.group}/*"

  # <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> -> arn:aws:ecr:<region>:<account>:repository/<repo>
  image_parts    = regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([a-z0-9._/-]+?)(?::[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image_uri)
  repository_arn = "arn:${local.partition}:ecr:${local.image_parts[1]}:${local.image_parts[0]}:repository/${local.image_parts[2]}"

  # No principals, no approver role (dev): the role is never trusted by the whole account.
  approver_enabled = length(var.approver_principal_arns) > 0

  bucket_name   = element(split(":::", var.lake_bucket_arn), 1)
  feature_group = jsondecode(file(coalesce(var.feature_group_file, "${path.module}/feature_group.json")))
  # SageMaker ARNs spell names in lower case.
  feature_group_arn = "${local.sm_arn}:feature-group/${lower(local.feature_group.name)}"
  glue_arn          = "arn:${local.partition}:glue:${local.region}:${local.account_id}"
  pipeline_arns     = { for key, name in var.pipeline_names : key => "${local.sm_arn}:pipeline/${lower(name)}" }
}

resource "aws_sagemaker_model_package_group" "churn" {
  model_package_group_name        = var.model_package_group_name
  model_package_group_description = "lakeml churn model; versions are registered PendingManualApproval"
}

# ----------------------------------------------------------------------------------- execution role

resource "aws_iam_role" "execution" {
  name        = local.execution_role_name
  description = "SageMaker pipeline jobs of lakeml: gold -> model -> registry (Pending) and batch scores"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "sagemaker.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "execution" {
  name   = "least-privilege"
  role   = aws_iam_role.execution.id
  policy = jsonencode(local.execution_policy)
}

locals {
  execution_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "LakeReadGold"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${var.lake_bucket_arn}/${var.prefixes.gold}/*"
      },
      {
        # ml/: execution outputs (splits, reports, evaluation) and tuning output (model artifacts);
        # predictions/: batch transform output.
        Sid      = "LakeWriteMlAndPredictions"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = ["${var.lake_bucket_arn}/${var.prefixes.ml}/*", "${var.lake_bucket_arn}/${var.prefixes.predictions}/*"]
      },
      {
        Sid      = "LakeListMlPrefixes"
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource = var.lake_bucket_arn
        Condition = {
          StringLikeIfExists = { "s3:prefix" = [for prefix in [var.prefixes.gold, var.prefixes.ml, var.prefixes.predictions, var.prefixes.feature_store, "${var.prefixes.runs}/dbt"] : "${prefix}/*"] }
        }
      },
      {
        # Lineage: training records the dbt invocation that built its gold snapshot (runs/dbt/latest.json).
        Sid      = "LakeReadDbtRuns"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${var.lake_bucket_arn}/${var.prefixes.runs}/dbt/*"
      },
      {
        # IngestFeatures (ml_pipelines/feature_store/sagemaker.py): ensure_group creates the group when it
        # is missing (here it exists: CreateFeatureGroup answers ResourceInUse), then PutRecord per row.
        # No GetRecord: no job reads the online store.
        Sid      = "FeatureStore"
        Effect   = "Allow"
        Action   = ["sagemaker:CreateFeatureGroup", "sagemaker:DescribeFeatureGroup", "sagemaker:PutRecord"]
        Resource = local.feature_group_arn
      },
      {
        # IngestFeatures records each ingested snapshot as a marker under feature_store/ingested/ (a
        # temporary object, then a move = copy + delete: ml_pipelines/feature_store/markers.py).
        Sid      = "IngestedSnapshotMarkers"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = "${var.lake_bucket_arn}/${var.prefixes.feature_store}/ingested/*"
      },
      {
        # The offline store writes Parquet under feature_store/ as this role (the group's RoleArn).
        Sid      = "OfflineStoreWrite"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"]
        Resource = "${var.lake_bucket_arn}/${var.prefixes.feature_store}/*"
      },
      {
        Sid      = "OfflineStoreBucketAcl"
        Effect   = "Allow"
        Action   = "s3:GetBucketAcl"
        Resource = var.lake_bucket_arn
      },
      {
        # ... and keeps the offline store's Glue table of the group in the feature_store database.
        Sid    = "OfflineStoreCatalog"
        Effect = "Allow"
        Action = ["glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"]
        Resource = [
          "${local.glue_arn}:catalog",
          "${local.glue_arn}:database/${var.feature_store_database}",
          "${local.glue_arn}:table/${var.feature_store_database}/*",
        ]
      },
      {
        Sid    = "PipelineJobs"
        Effect = "Allow"
        Action = [
          "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
          "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
          "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
          "sagemaker:StopHyperParameterTuningJob", "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
          "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob",
          "sagemaker:CreateModel", "sagemaker:DescribeModel",
          "sagemaker:AddTags", "sagemaker:ListTags",
        ]
        Resource = [for kind in ["processing-job", "training-job", "hyper-parameter-tuning-job", "transform-job", "model"] : "${local.sm_arn}:${kind}/*"]
      },
      {
        # Registering is allowed; the status a version is registered with is fixed in code (Pending).
        Sid      = "RegisterModelVersions"
        Effect   = "Allow"
        Action   = ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:DescribeModelPackageGroup"]
        Resource = [local.group_arn, local.package_arns]
      },
      {
        # Approving is the approver's alone: an explicit deny wins over any allow attached later.
        Sid      = "NeverApprove"
        Effect   = "Deny"
        Action   = "sagemaker:UpdateModelPackage"
        Resource = "*"
      },
      {
        # Steps pass this same role to the jobs they create; nothing else may be passed.
        Sid       = "PassOwnRoleToSageMaker"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = aws_iam_role.execution.arn
        Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
      },
      {
        Sid      = "PullTheOneImage"
        Effect   = "Allow"
        Action   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
        Resource = local.repository_arn
      },
      {
        # GetAuthorizationToken has no resource-level permissions.
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
      {
        Sid      = "JobLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        Resource = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/*"
      },
      {
        # Training and tuning jobs publish their objective metric; PutMetricData has no resources, so
        # the namespace is the scope.
        Sid       = "JobMetrics"
        Effect    = "Allow"
        Action    = "cloudwatch:PutMetricData"
        Resource  = "*"
        Condition = { StringLike = { "cloudwatch:namespace" = "/aws/sagemaker/*" } }
      },
      {
        Sid      = "LakeKeyThroughS3"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
        }
      },
      ], length(var.pipeline_lambda_arns) == 0 ? [] : [{
        Sid      = "PipelineLambdaSteps"
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = var.pipeline_lambda_arns
    }])
  }
}

# The CMK the jobs, models and feature group are encrypted with, and the Glue catalog (encrypted with the
# same key), used through those services: a second inline policy, so the least-privilege document above
# stays what the code's calls need and this one what the keys need.
resource "aws_iam_role_policy" "execution_keys" {
  name   = "keys"
  role   = aws_iam_role.execution.id
  policy = jsonencode(local.execution_keys_policy)
}

locals {
  execution_keys_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        # Job volumes (VolumeKmsKeyId), job outputs (KmsKeyId) and the online store: SageMaker creates
        # grants on the key for the resources it makes in this role's name.
        Sid       = "JobKeyGrantsThroughSageMaker"
        Effect    = "Allow"
        Action    = "kms:CreateGrant"
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = "sagemaker.${local.region}.amazonaws.com" }, Bool = { "kms:GrantIsForAWSResource" = "true" } }
      },
      {
        Sid       = "FeatureStoreKeyThroughSageMaker"
        Effect    = "Allow"
        Action    = ["kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = "sagemaker.${local.region}.amazonaws.com" } }
      },
      {
        # The offline store's table in the encrypted Glue Data Catalog.
        Sid       = "CatalogKeyThroughGlue"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = "glue.${local.region}.amazonaws.com" } }
      },
      ], var.private_networking ? [{
        # Jobs and models in private subnets: SageMaker makes their network interfaces as this role. The
        # EC2 network-interface actions have no narrower resource form that SageMaker's calls fit.
        Sid    = "JobNetworkInterfaces"
        Effect = "Allow"
        Action = [
          "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
          "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
          "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
        ]
        Resource = "*"
    }] : [])
  }
}

# ------------------------------------------------------------------------------------ approver role

# Trusted by the named principals only, and only in a session that signed in with MFA
# (aws:MultiFactorAuthPresent is absent, so false, for sessions without it). No principals: no role.
resource "aws_iam_role" "approver" {
  count       = local.approver_enabled ? 1 : 0
  name        = "${var.name_prefix}-model-approver"
  description = "The only lakeml role that may approve or reject a version of ${var.model_package_group_name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "NamedPrincipalsWithMfa"
      Effect    = "Allow"
      Principal = { AWS = var.approver_principal_arns }
      Action    = "sts:AssumeRole"
      Condition = { Bool = { "aws:MultiFactorAuthPresent" = "true" } }
    }]
  })
  max_session_duration = 3600
}

# A managed policy, so the same permission can be attached to an SSO permission set if people approve
# without assuming the role.
resource "aws_iam_policy" "approver" {
  name        = "${var.name_prefix}-model-approver"
  description = "Approve/reject versions of ${var.model_package_group_name} and record the decision"
  policy      = jsonencode(local.approver_policy)
}

resource "aws_iam_role_policy_attachment" "approver" {
  count      = local.approver_enabled ? 1 : 0
  role       = aws_iam_role.approver[0].name
  policy_arn = aws_iam_policy.approver.arn
}

locals {
  approver_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ApproveVersionsOfTheGroup"
        Effect   = "Allow"
        Action   = "sagemaker:UpdateModelPackage"
        Resource = local.package_arns
      },
      {
        Sid      = "ReadTheRegistry"
        Effect   = "Allow"
        Action   = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:DescribeModelPackageGroup"]
        Resource = [local.group_arn, local.package_arns]
      },
      {
        Sid      = "ListGroups"
        Effect   = "Allow"
        Action   = "sagemaker:ListModelPackageGroups"
        Resource = "*"
      },
      {
        # `lakeml models approve` appends the decision to registry/<group>/<version>/approvals.json.
        Sid      = "ApprovalHistory"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = "${var.lake_bucket_arn}/${var.prefixes.registry}/${local.group}/*"
      },
      {
        # Without ListBucket, S3 answers a missing approvals.json (a version's first decision) with 403
        # instead of 404, and the history cannot tell "none yet" from "denied".
        Sid       = "ApprovalHistoryList"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = var.lake_bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.prefixes.registry}/${local.group}/*"] } }
      },
      {
        Sid      = "LakeKeyThroughS3"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
        }
      },
    ]
  }
}

# ---------------------------------------------------------------------------------- approved event

resource "aws_cloudwatch_event_rule" "approved" {
  name        = "${var.name_prefix}-model-approved"
  description = "A version of ${var.model_package_group_name} was approved: deploy it"
  event_pattern = jsonencode({
    source        = ["aws.sagemaker"]
    "detail-type" = ["SageMaker Model Package State Change"]
    detail = {
      ModelPackageGroupName = [local.group]
      ModelApprovalStatus   = ["Approved"]
    }
  })
}

resource "aws_cloudwatch_event_target" "approved" {
  rule = aws_cloudwatch_event_rule.approved.name
  arn  = var.on_approval_function_arn
}

resource "aws_lambda_permission" "approved" {
  statement_id  = "AllowModelApprovedRule"
  action        = "lambda:InvokeFunction"
  function_name = var.on_approval_function_arn
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.approved.arn
}

# ----------------------------------------------------------------------------- pipeline failed event

resource "aws_cloudwatch_event_rule" "pipeline_failed" {
  name        = "${var.name_prefix}-pipeline-failed"
  description = "An execution of a lakeml SageMaker pipeline failed: notify"
  event_pattern = jsonencode({
    source        = ["aws.sagemaker"]
    "detail-type" = ["SageMaker Model Building Pipeline Execution Status Change"]
    detail = {
      pipelineArn                    = values(local.pipeline_arns)
      currentPipelineExecutionStatus = ["Failed"]
    }
  })
}

# The raw event: the notify handler parses pipeline status changes itself (lakeml/notify/events.py,
# tested on tests/fixtures/events/notify_pipeline_failed.json) into a critical notification.
resource "aws_cloudwatch_event_target" "pipeline_failed" {
  rule = aws_cloudwatch_event_rule.pipeline_failed.name
  arn  = var.on_pipeline_failed_function_arn
}

resource "aws_lambda_permission" "pipeline_failed" {
  statement_id  = "AllowPipelineFailedRule"
  action        = "lambda:InvokeFunction"
  function_name = var.on_pipeline_failed_function_arn
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.pipeline_failed.arn
}

# ------------------------------------------------------------------------------------- feature store

resource "aws_glue_catalog_database" "feature_store" {
  name         = var.feature_store_database
  description  = "lakeml feature store: offline store tables"
  location_uri = "s3://${local.bucket_name}/${var.prefixes.feature_store}/"
}

# Exactly the group `IngestFeatures` would create (ensure_group compares and refuses a mismatch), with the
# offline store in the lake and the online store, both under the CMK (PutRecord/GetRecord callers need
# kms:Decrypt/GenerateDataKey through SageMaker: the execution role's `keys` policy).
resource "aws_sagemaker_feature_group" "features" {
  feature_group_name             = local.feature_group.name
  record_identifier_feature_name = local.feature_group.record_id
  event_time_feature_name        = local.feature_group.event_time
  role_arn                       = aws_iam_role.execution.arn
  description                    = "lakeml features: record id ${local.feature_group.record_id}, event time ${local.feature_group.event_time}"

  dynamic "feature_definition" {
    for_each = local.feature_group.definitions
    content {
      feature_name = feature_definition.value.FeatureName
      feature_type = feature_definition.value.FeatureType
    }
  }

  online_store_config {
    enable_online_store = true
    security_config {
      kms_key_id = var.kms_key_arn
    }
  }

  offline_store_config {
    s3_storage_config {
      s3_uri     = "s3://${local.bucket_name}/${var.prefixes.feature_store}"
      kms_key_id = var.kms_key_arn
    }
    data_catalog_config {
      catalog    = "AwsDataCatalog"
      database   = aws_glue_catalog_database.feature_store.name
      table_name = replace(lower(local.feature_group.name), "-", "_")
    }
  }

  depends_on = [aws_iam_role_policy.execution, aws_iam_role_policy.execution_keys]
}

# ------------------------------------------------------------------------------------------ pipelines

# From the definition the code renders (`lakeml pipeline definition [--batch]`), read from a file so the
# plan shows the definition's diff; the definition bakes in this stack's ARNs (role, image, deploy
# Lambda), so the files are given on the second apply (docs/aws.md).
resource "aws_sagemaker_pipeline" "pipeline" {
  for_each = var.pipeline_definition_files

  pipeline_name         = var.pipeline_names[each.key]
  pipeline_display_name = var.pipeline_names[each.key]
  pipeline_description  = "lakeml ${each.key} pipeline (lakeml pipeline definition${each.key == "scoring" ? " --batch" : ""})"
  role_arn              = aws_iam_role.execution.arn
  pipeline_definition   = file(each.value)
}

# Statements by id, so tests (tests/*.tftest.hcl) can assert on one statement by name.
locals {
  execution_by_sid = { for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }
  keys_by_sid      = { for s in jsondecode(aws_iam_role_policy.execution_keys.policy).Statement : s.Sid => s }
  approver_by_sid  = { for s in jsondecode(aws_iam_policy.approver.policy).Statement : s.Sid => s }
}
