# The four Lambdas added beside ingestion, all from the one Lambda image (`image_config.command` names the
# handler), each with a role holding what its handler's code calls and no more:
# - notify (lakeml/notify/sns.py): publish to the warning and critical topics;
# - quality (lakeml/monitor): read runs/dbt/ and bronze/_manifests/, write runs/quality/, emit EMF;
# - on-approval (ml_pipelines/serving/on_approval.py) and deploy-staging (ml_pipelines/steps/deploy.py):
#   read the registry, deploy blue/green to their endpoint (ml_pipelines/serving/deploy/sagemaker.py).

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  sm_arn    = "arn:${local.partition}:sagemaker:${local.region}:${local.account}"
  lake_arn  = module.lake.bucket_arn
  prefixes  = module.lake.prefixes

  function_environment = {
    LAKEML_AWS__LAKE_BUCKET = module.lake.bucket_name
    LAKEML_AWS__ACCOUNT_ID  = local.account
  }

  # SageMaker encrypts what the deploy functions create (the endpoint's storage volumes, KmsKeyId of the
  # endpoint config) with the lake key, through grants it makes in the caller's name.
  endpoint_key_statements = [
    {
      Sid       = "EndpointKeyGrantsThroughSageMaker"
      Effect    = "Allow"
      Action    = "kms:CreateGrant"
      Resource  = module.lake.kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sagemaker.${local.region}.amazonaws.com" }, Bool = { "kms:GrantIsForAWSResource" = "true" } }
    },
    {
      Sid       = "EndpointKeyDescribeThroughSageMaker"
      Effect    = "Allow"
      Action    = "kms:DescribeKey"
      Resource  = module.lake.kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sagemaker.${local.region}.amazonaws.com" } }
    },
  ]

  lake_key_through = {
    for services in [["s3"], ["sns"]] : join("-", services) => {
      Sid      = "LakeKeyThrough${title(join("", services))}"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = module.lake.kms_key_arn
      Condition = {
        StringEquals = { "kms:ViaService" = [for service in services : "${service}.${local.region}.amazonaws.com"] }
      }
    }
  }

  # What on-approval and deploy-staging share: read the registry, deploy a version to `endpoint`.
  deploy_statements = {
    for function, endpoint in { on-approval = var.production_endpoint, deploy-staging = var.staging_endpoint } : function => [
      {
        Sid      = "ReadTheRegistry"
        Effect   = "Allow"
        Action   = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:DescribeModelPackageGroup"]
        Resource = [module.ml.model_package_group_arn, "${local.sm_arn}:model-package/${module.ml.model_package_group_name}/*"]
      },
      {
        # Approval history (registry/<group>/<version>/approvals.json) and the version's evaluation.
        Sid      = "ReadRegistryRecords"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = ["${local.lake_arn}/${local.prefixes.registry}/*", "${local.lake_arn}/${local.prefixes.ml}/*"]
      },
      {
        # The artefact check before a deploy (HeadObject, then a listing of a model folder).
        Sid       = "ListModelArtefacts"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = local.lake_arn
        Condition = { StringLikeIfExists = { "s3:prefix" = ["${local.prefixes.ml}/*"] } }
      },
      {
        # Model and endpoint config names start with the endpoint's name (SageMakerDeployer.deploy).
        Sid    = "DeployToTheEndpoint"
        Effect = "Allow"
        Action = [
          "sagemaker:CreateModel", "sagemaker:DescribeModel",
          "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
          "sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint",
        ]
        Resource = [
          "${local.sm_arn}:endpoint/${endpoint}",
          "${local.sm_arn}:endpoint-config/${endpoint}-*",
          "${local.sm_arn}:model/${endpoint}-*",
        ]
      },
      {
        # The model runs as the SageMaker execution role; nothing else may be passed.
        Sid       = "PassTheExecutionRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = module.ml.execution_role_arn
        Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
      },
      {
        # Target-tracking autoscaling of the variant (RegisterScalableTarget + PutScalingPolicy, nothing
        # read back); Application Auto Scaling has no resource-level permissions and creates, describes and
        # replaces the tracking alarms as the caller.
        Sid      = "AutoscaleTheVariant"
        Effect   = "Allow"
        Action   = ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy", "cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"]
        Resource = "*"
      },
      {
        # The first RegisterScalableTarget for SageMaker creates Auto Scaling's service-linked role.
        Sid       = "AutoscalingServiceLinkedRole"
        Effect    = "Allow"
        Action    = "iam:CreateServiceLinkedRole"
        Resource  = "arn:${local.partition}:iam::${local.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
        Condition = { StringLike = { "iam:AWSServiceName" = "sagemaker.application-autoscaling.amazonaws.com" } }
      },
      local.lake_key_through["s3"],
    ]
  }
}

module "notify" {
  vpc_config = local.runtime_vpc

  source = "../function"

  name_prefix        = local.name_prefix
  name               = "notify"
  handler            = "lakeml.handlers.notify.handler"
  description        = "lakeml notifications: flow failures, pipeline failures and reports to the warning/critical topics"
  image_uri          = var.lambda_image_uri
  kms_key_arn        = module.lake.kms_key_arn
  log_retention_days = var.log_retention_days
  log_level          = var.log_level
  metrics_namespace  = "lakeml/notify"
  timeout_seconds    = 30
  environment = merge(local.function_environment, {
    LAKEML_AWS__WARNING_TOPIC_ARN  = module.monitoring.warning_topic_arn
    LAKEML_AWS__CRITICAL_TOPIC_ARN = module.monitoring.critical_topic_arn
  })
  policy_statements = [
    {
      Sid      = "PublishToTheTwoTopics"
      Effect   = "Allow"
      Action   = "sns:Publish"
      Resource = [module.monitoring.warning_topic_arn, module.monitoring.critical_topic_arn]
    },
    local.lake_key_through["sns"],
  ]
}

module "quality" {
  vpc_config = local.runtime_vpc

  source = "../function"

  name_prefix        = local.name_prefix
  name               = "quality"
  handler            = "lakeml.handlers.quality.handler"
  description        = "lakeml data-quality monitor: dbt run results, manifests, quarantine and watermark lag against thresholds"
  image_uri          = var.lambda_image_uri
  kms_key_arn        = module.lake.kms_key_arn
  log_retention_days = var.log_retention_days
  log_level          = var.log_level
  metrics_namespace  = "lakeml/quality"
  memory_mb          = 1024
  environment        = local.function_environment
  policy_statements = [
    {
      Sid      = "ReadDbtRunsAndManifests"
      Effect   = "Allow"
      Action   = "s3:GetObject"
      Resource = ["${local.lake_arn}/${local.prefixes.runs}/dbt/*", "${local.lake_arn}/${local.prefixes.bronze}/_manifests/*"]
    },
    {
      # The report is written to a temporary name and moved (copy + delete) into place.
      Sid      = "WriteQualityReports"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      Resource = "${local.lake_arn}/${local.prefixes.runs}/quality/*"
    },
    {
      # pyarrow's create_dir writes the empty folder markers of the report's parents on every write;
      # runs/quality/ is covered above, runs/ is this one key (found by tests/infra/emulator).
      Sid      = "RunsFolderMarker"
      Effect   = "Allow"
      Action   = "s3:PutObject"
      Resource = "${local.lake_arn}/${local.prefixes.runs}/"
    },
    {
      Sid       = "ListRunsAndManifests"
      Effect    = "Allow"
      Action    = "s3:ListBucket"
      Resource  = local.lake_arn
      Condition = { StringLikeIfExists = { "s3:prefix" = ["${local.prefixes.runs}/*", "${local.prefixes.bronze}/_manifests/*"] } }
    },
    local.lake_key_through["s3"],
  ]
}

module "on_approval" {
  vpc_config = local.runtime_vpc

  source = "../function"

  name_prefix        = local.name_prefix
  name               = "on-approval"
  handler            = "lakeml.handlers.on_approval.handler"
  description        = "lakeml: a model version was approved, make ${var.production_endpoint} serve the champion"
  image_uri          = var.lambda_image_uri
  kms_key_arn        = module.lake.kms_key_arn
  log_retention_days = var.log_retention_days
  log_level          = var.log_level
  metrics_namespace  = "lakeml/serving"
  timeout_seconds    = 300
  # One deploy at a time: SageMaker may send the same event twice, and two blue/green updates of one
  # endpoint would race.
  reserved_concurrency = 1
  environment = merge(local.function_environment, local.sagemaker_environment, {
    LAKEML_AWS__SAGEMAKER_ROLE_ARN = module.ml.execution_role_arn
  })
  policy_statements = local.deploy_statements["on-approval"]
  key_statements    = local.endpoint_key_statements
}

module "deploy_staging" {
  vpc_config = local.runtime_vpc

  source = "../function"

  name_prefix          = local.name_prefix
  name                 = "deploy-staging"
  handler              = "lakeml.handlers.deploy_staging.handler"
  description          = "lakeml: the training pipeline's DeployStaging step, deploys to ${var.staging_endpoint}"
  image_uri            = var.lambda_image_uri
  kms_key_arn          = module.lake.kms_key_arn
  log_retention_days   = var.log_retention_days
  log_level            = var.log_level
  metrics_namespace    = "lakeml/serving"
  timeout_seconds      = 300
  reserved_concurrency = 1
  environment = merge(local.function_environment, local.sagemaker_environment, {
    LAKEML_AWS__SAGEMAKER_ROLE_ARN = module.ml.execution_role_arn
  })
  policy_statements = local.deploy_statements["deploy-staging"]
  key_statements    = local.endpoint_key_statements
}
