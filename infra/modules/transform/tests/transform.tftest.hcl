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
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakeml-test-dbt" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/lakeml-test-dbt" }
  }
}

variables {
  name_prefix      = "lakeml-test"
  image_uri        = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-test-ml:0a1b2c3"
  lake_bucket_name = "lakeml-test-lake"
  lake_bucket_arn  = "arn:aws:s3:::lakeml-test-lake"
  kms_key_arn      = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  glue_role_arn    = "arn:aws:iam::123456789012:role/lakeml-test-glue"
  vpc_id           = "vpc-0123456789abcdef0"
}

run "task_runs_lakeml_transform_on_the_glue_target" {
  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].command == ["lakeml", "transform", "--json"]
      && jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].image == var.image_uri
      && jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].name == "dbt"
    )
    error_message = "the dbt container runs `lakeml transform --json` from the ML image"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].user == "1000"
    error_message = "the task runs as the image's unprivileged lakeml user"
  }
  assert {
    condition = (
      { for e in jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].environment : e.name => e.value }["LAKEML_TRANSFORM__TARGET"] == "glue"
      && { for e in jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].environment : e.name => e.value }["LAKEML_ENV"] == "aws"
      && { for e in jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].environment : e.name => e.value }["LAKEML_AWS__GLUE_ROLE_ARN"] == var.glue_role_arn
    )
    error_message = "the task selects the aws adapters and the glue transform target, with the Glue role"
  }
  assert {
    condition     = aws_ecs_task_definition.dbt.requires_compatibilities == toset(["FARGATE"]) && aws_ecs_task_definition.dbt.network_mode == "awsvpc"
    error_message = "a Fargate task"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.dbt.container_definitions)[0].logConfiguration.options["awslogs-group"] == "/ecs/lakeml-test-dbt" && aws_cloudwatch_log_group.dbt.kms_key_id == var.kms_key_arn
    error_message = "logs go to the task's encrypted log group"
  }
}

run "task_role_drives_glue_sessions_and_writes_runs_dbt_only" {
  assert {
    condition     = local.task_by_sid.PassTheGlueRole.Resource == var.glue_role_arn && local.task_by_sid.PassTheGlueRole.Condition.StringEquals["iam:PassedToService"] == "glue.amazonaws.com"
    error_message = "the task may pass the Glue role only, only to Glue"
  }
  assert {
    condition     = local.task_by_sid.GlueInteractiveSessions.Resource == "arn:aws:glue:eu-west-1:123456789012:session/*" && contains(local.task_by_sid.GlueInteractiveSessions.Action, "glue:RunStatement")
    error_message = "dbt-glue drives interactive sessions"
  }
  assert {
    condition     = local.task_by_sid.LakeRunsAndVisibility.Resource == ["arn:aws:s3:::lakeml-test-lake/runs/dbt/*"]
    error_message = "the task writes runs/dbt/ only"
  }
  assert {
    condition = alltrue(flatten([
      for s in local.task_policy.Statement : [
        # DeleteObject only where the task's own atomic writes leave a temporary object (runs/dbt/, bronze/_visible/)
        for a in flatten([s.Action]) : !contains(["glue:CreateTable", "glue:DeleteTable", "glue:CreateDatabase"], a) && (a != "s3:DeleteObject" || alltrue([for r in flatten([s.Resource]) : endswith(r, "/runs/dbt/*") || endswith(r, "/bronze/_visible/*")]))
      ]
    ]))
    error_message = "DDL and lake writes happen in the Glue session (its role), not in the task"
  }
  assert {
    condition     = length(aws_security_group.dbt) == 1 && one(aws_security_group.dbt[0].egress).from_port == 443 && length(aws_security_group.dbt[0].ingress) == 0
    error_message = "the task's security group allows HTTPS out and nothing in"
  }
}

run "task_role_republishes_the_visibility_index_from_the_manifests" {
  assert {
    condition     = local.task_by_sid.LakeVisibilityIndex.Resource == "arn:aws:s3:::lakeml-test-lake/bronze/_visible/*" && contains(local.task_by_sid.LakeVisibilityIndex.Action, "s3:PutObject") && contains(local.task_by_sid.LakeVisibilityIndex.Action, "s3:DeleteObject")
    error_message = "lakeml transform rewrites bronze/_visible/ (temporary object + move) before dbt reads it"
  }
  assert {
    condition     = local.task_by_sid.LakeReadManifests.Action == "s3:GetObject" && local.task_by_sid.LakeReadManifests.Resource == "arn:aws:s3:::lakeml-test-lake/bronze/_manifests/*"
    error_message = "the index is rebuilt from the manifests, which the task only reads"
  }
  assert {
    condition     = contains(local.task_by_sid.LakeRunsAndVisibility.Action, "s3:DeleteObject")
    error_message = "publishing runs/dbt/ writes a temporary object and moves it (copy + delete on S3)"
  }
}

run "execution_role_pulls_the_ml_repository_only" {
  assert {
    condition     = jsondecode(aws_iam_role_policy.execution.policy).Statement[0].Resource == "arn:aws:ecr:eu-west-1:123456789012:repository/lakeml-test-ml"
    error_message = "image pulls are limited to the repository of image_uri"
  }
}
