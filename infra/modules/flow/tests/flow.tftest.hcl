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
    defaults = { arn = "arn:aws:iam::123456789012:role/lakeml-test-daily-flow" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/lakeml-test-daily-flow" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakeml-test-daily-flow" }
  }
}

variables {
  name_prefix             = "lakeml-test"
  ingest_function_arn     = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test-ingestion"
  quality_function_arn    = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test-quality"
  notify_function_arn     = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test-notify"
  dbt_cluster_arn         = "arn:aws:ecs:eu-west-1:123456789012:cluster/lakeml-test-dbt"
  dbt_task_definition_arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/lakeml-test-dbt:3"
  dbt_task_role_arns      = ["arn:aws:iam::123456789012:role/lakeml-test-dbt-task", "arn:aws:iam::123456789012:role/lakeml-test-dbt-execution"]
  dbt_subnet_ids          = ["subnet-aaa", "subnet-bbb"]
  dbt_security_group_ids  = ["sg-123"]
  kms_key_arn             = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  tables                  = ["CUSTOMERS", "ORDERS"]
  model_package_group_arn = "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/lakeml-churn"
}

run "definition_is_the_rendered_flow_with_every_placeholder_filled" {
  assert {
    condition     = can(jsondecode(aws_sfn_state_machine.flow.definition)) && !strcontains(aws_sfn_state_machine.flow.definition, "$${")
    error_message = "the rendered definition must be JSON with no placeholder left"
  }
  assert {
    condition = alltrue([
      for value in [var.ingest_function_arn, var.quality_function_arn, var.notify_function_arn, var.dbt_cluster_arn, var.dbt_task_definition_arn, "lakeml-churn-training", "lakeml-churn-batch-scoring"] :
      strcontains(aws_sfn_state_machine.flow.definition, value)
    ])
    error_message = "the definition must name this env's Lambdas, dbt task and pipelines"
  }
}

run "reports_how_many_tables_ingest_at_once" {
  assert {
    condition     = output.max_map_concurrency >= 1 && output.max_map_concurrency == max(1, [for m in regexall("\"MaxConcurrency\"\\s*:\\s*([0-9]+)", aws_sfn_state_machine.flow.definition) : tonumber(m[0])]...)
    error_message = "the widest Map's MaxConcurrency is what the ingestion Lambda must be able to run at once"
  }
}

run "logged_without_execution_data_and_traced" {
  assert {
    condition = (
      aws_sfn_state_machine.flow.logging_configuration[0].level == "ERROR"
      && aws_sfn_state_machine.flow.logging_configuration[0].include_execution_data == false
      && aws_sfn_state_machine.flow.logging_configuration[0].log_destination == "${aws_cloudwatch_log_group.flow.arn}:*"
    )
    error_message = "errors are logged to the flow's log group, execution data is not"
  }
  assert {
    condition     = aws_sfn_state_machine.flow.tracing_configuration[0].enabled && aws_cloudwatch_log_group.flow.kms_key_id == var.kms_key_arn
    error_message = "X-Ray on, log group encrypted"
  }
}

run "role_calls_exactly_what_the_states_call" {
  assert {
    condition     = toset(local.flow_by_sid.InvokeTheFlowLambdas.Resource) == toset([var.ingest_function_arn, var.quality_function_arn, var.notify_function_arn])
    error_message = "the flow may invoke its three Lambdas and no other"
  }
  assert {
    condition     = local.flow_by_sid.RunTheDbtTask.Resource == var.dbt_task_definition_arn && local.flow_by_sid.RunTheDbtTask.Condition.ArnEquals["ecs:cluster"] == var.dbt_cluster_arn
    error_message = "the flow runs the dbt task definition on the dbt cluster only"
  }
  assert {
    condition     = toset(local.flow_by_sid.PassTheDbtTaskRoles.Resource) == toset(var.dbt_task_role_arns) && local.flow_by_sid.PassTheDbtTaskRoles.Condition.StringEquals["iam:PassedToService"] == "ecs-tasks.amazonaws.com"
    error_message = "the flow passes the dbt task's two roles, only to ECS tasks"
  }
  assert {
    condition     = local.flow_by_sid.SyncRuleForEcsTasks.Resource == "arn:aws:events:eu-west-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule"
    error_message = "runTask.sync's managed rule only"
  }
  assert {
    condition = (
      toset(local.flow_by_sid.StartThePipelines.Resource) == toset(["arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-training", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-batch-scoring"])
      && toset(local.flow_by_sid.PollThePipelineExecutions.Resource) == toset(["arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-training/execution/*", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-batch-scoring/execution/*"])
    )
    error_message = "start and poll the two pipelines only"
  }
  assert {
    condition     = local.flow_by_sid.FindTheChampion.Action == "sagemaker:ListModelPackages" && contains(local.flow_by_sid.FindTheChampion.Resource, "arn:aws:sagemaker:eu-west-1:123456789012:model-package/lakeml-churn/*")
    error_message = "the scoring stage may list the versions of the churn group"
  }
  assert {
    condition = length(regexall("\"Resource\"", aws_sfn_state_machine.flow.definition)) > 0 && alltrue([
      for resource in regexall("\"Resource\"\\s*:\\s*\"([^\"]+)\"", aws_sfn_state_machine.flow.definition) :
      contains([
        "arn:aws:states:::lambda:invoke", "arn:aws:states:::ecs:runTask.sync",
        "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution", "arn:aws:states:::aws-sdk:sagemaker:describePipelineExecution",
        "arn:aws:states:::aws-sdk:sagemaker:listModelPackages",
      ], resource[0])
    ])
    error_message = "the rendered flow calls an integration this role does not grant: add its permission to the role (and here)"
  }
}

run "schedule_starts_the_flow_with_the_tables_and_is_off_by_default" {
  assert {
    condition     = aws_scheduler_schedule.daily.state == "DISABLED"
    error_message = "the schedule stays off until the source secret is set"
  }
  assert {
    condition = (
      one(aws_scheduler_schedule.daily.target).arn == aws_sfn_state_machine.flow.arn
      && jsondecode(one(aws_scheduler_schedule.daily.target).input).tables == ["CUSTOMERS", "ORDERS"]
    )
    error_message = "the schedule starts this state machine with the configured tables"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Action == "states:StartExecution" && jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Resource == aws_sfn_state_machine.flow.arn
    error_message = "the scheduler may start this state machine only"
  }
}

run "schedule_can_be_enabled" {
  variables {
    schedule_enabled = true
  }
  assert {
    condition     = aws_scheduler_schedule.daily.state == "ENABLED"
    error_message = "schedule_enabled turns the schedule on"
  }
}

run "scheduled_pipeline_params_are_sagemakers_parameter_list" {
  variables {
    pipeline_params = { MaxTuningJobs = "4", AucFloor = "0.7" }
  }
  assert {
    condition = jsondecode(one(aws_scheduler_schedule.daily.target).input).pipeline_params == [
      { Name = "AucFloor", Value = "0.7" }, { Name = "MaxTuningJobs", Value = "4" },
    ]
    error_message = "the ASL passes pipeline_params to StartPipelineExecution as is: it must be a {Name, Value} list, like `lakeml run` sends"
  }
}

run "schedule_without_subnets_is_refused" {
  command = plan
  variables {
    schedule_enabled = true
    dbt_subnet_ids   = []
  }
  expect_failures = [aws_scheduler_schedule.daily]
}

run "rejects_logging_execution_data_levels" {
  command = plan
  variables {
    log_level = "OFF"
  }
  expect_failures = [var.log_level]
}
