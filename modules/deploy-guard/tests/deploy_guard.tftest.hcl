# Plan-only tests of the deploy-guard module against a mocked AWS provider.
# override_during = plan makes the mocked ARNs known in the plan, so that the
# policy, the event target and the permission can be asserted.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:444444444444:log-group:/aws/lambda/acme-shop-prod-deploy-guard"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-guard-us-east-1"
    }
  }
  mock_resource "aws_iam_role_policy" {}
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:444444444444:function:acme-shop-prod-deploy-guard"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-east-1:444444444444:rule/acme-shop-prod-deploy-guard-alarms"
    }
  }
  mock_resource "aws_lambda_function_event_invoke_config" {}
  mock_resource "aws_cloudwatch_event_target" {}
  mock_resource "aws_lambda_permission" {}

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "444444444444"
    }
  }
}

variables {
  name_prefix                 = "acme-shop-prod"
  package_path                = "build/deploy-guard.zip"
  package_hash                = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
  codedeploy_application_name = "acme-shop-prod-services"
  deployment_group_names      = ["acme-shop-prod-api-service", "acme-shop-prod-auth-service"]
  cluster_name                = "acme-shop-prod-cluster"
  service_names               = ["acme-shop-prod-api-service", "acme-shop-prod-auth-service"]
  alarm_names = [
    "acme-shop-prod-api-service-running-tasks",
    "acme-shop-prod-api-service-5xx-rate",
    "acme-shop-prod-auth-service-running-tasks",
  ]
  notifications_topic_arn   = "arn:aws:sns:us-east-1:444444444444:acme-shop-prod-notifications"
  notifications_kms_key_arn = "arn:aws:kms:us-east-1:444444444444:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "function" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.function_name == "acme-shop-prod-deploy-guard" && output.function_name == "acme-shop-prod-deploy-guard"
    error_message = "The function must be named {name_prefix}-deploy-guard."
  }

  assert {
    condition = (
      aws_lambda_function.this.runtime == "python3.12"
      && aws_lambda_function.this.handler == "deploy_guard.handler.handler"
    )
    error_message = "The function must run deploy_guard.handler.handler on python3.12."
  }

  assert {
    condition = (
      aws_lambda_function.this.filename == "build/deploy-guard.zip"
      && aws_lambda_function.this.source_code_hash == "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
    )
    error_message = "The function's code must be package_path, with package_hash as its source_code_hash."
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      APPLICATION_NAME   = "acme-shop-prod-services"
      TOPIC_ARN          = "arn:aws:sns:us-east-1:444444444444:acme-shop-prod-notifications"
      VALIDATION_SECONDS = "0"
    })
    error_message = "The function's environment must be exactly APPLICATION_NAME, TOPIC_ARN and VALIDATION_SECONDS."
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 30 && aws_lambda_function.this.memory_size == 128
    error_message = "The defaults must be a 30 s timeout and 128 MB."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.function_name == "acme-shop-prod-deploy-guard"
      && aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == var.notifications_topic_arn
      && aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2
      && aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 3600
    )
    error_message = "Asynchronous invocations that still fail after two retries (within the hour) must land on the notifications topic."
  }

  assert {
    condition     = aws_lambda_function.this.role == aws_iam_role.this.arn
    error_message = "The function must run as the module's execution role."
  }
}

run "log_group" {
  command = plan

  variables {
    log_retention_days = 90
    log_kms_key_arn    = "arn:aws:kms:us-east-1:444444444444:key/abcd1234-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.this.name == "/aws/lambda/acme-shop-prod-deploy-guard"
      && output.log_group_name == "/aws/lambda/acme-shop-prod-deploy-guard"
    )
    error_message = "The log group must be the function's own, /aws/lambda/{function name}, created by Terraform."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.this.retention_in_days == 90
      && aws_cloudwatch_log_group.this.kms_key_id == var.log_kms_key_arn
    )
    error_message = "The log group must take log_retention_days and log_kms_key_arn."
  }
}

run "log_group_defaults" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "By default the log group keeps 30 days, with CloudWatch Logs' own encryption."
  }
}

run "execution_role" {
  command = plan

  assert {
    condition     = aws_iam_role.this.name == "acme-shop-prod-deploy-guard-us-east-1"
    error_message = "The role must be named {name_prefix}-deploy-guard-{region} (IAM is global)."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
      && length(jsondecode(aws_iam_role.this.assume_role_policy).Statement) == 1
    )
    error_message = "Only Lambda may assume the execution role."
  }
}

run "least_privilege" {
  command = plan

  assert {
    # Compared as JSON: a list and a tuple of the same strings are not equal
    # in HCL.
    condition = jsonencode({
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid => sort(flatten([s.Resource]))
      }) == jsonencode({
      ReadDeployments = sort([
        "arn:aws:codedeploy:us-east-1:444444444444:deploymentgroup:acme-shop-prod-services/acme-shop-prod-api-service",
        "arn:aws:codedeploy:us-east-1:444444444444:deploymentgroup:acme-shop-prod-services/acme-shop-prod-auth-service",
      ])
      ListDeploymentGroups  = ["arn:aws:codedeploy:us-east-1:444444444444:application:acme-shop-prod-services"]
      ReportAndStop         = ["*"]
      DescribeLoadBalancing = ["*"]
      DescribeServices = sort([
        "arn:aws:ecs:us-east-1:444444444444:service/acme-shop-prod-cluster/acme-shop-prod-api-service",
        "arn:aws:ecs:us-east-1:444444444444:service/acme-shop-prod-cluster/acme-shop-prod-auth-service",
      ])
      DescribeAlarms = sort([
        "arn:aws:cloudwatch:us-east-1:444444444444:alarm:acme-shop-prod-api-service-running-tasks",
        "arn:aws:cloudwatch:us-east-1:444444444444:alarm:acme-shop-prod-api-service-5xx-rate",
        "arn:aws:cloudwatch:us-east-1:444444444444:alarm:acme-shop-prod-auth-service-running-tasks",
      ])
      Notify          = ["arn:aws:sns:us-east-1:444444444444:acme-shop-prod-notifications"]
      NotifyEncrypted = ["arn:aws:kms:us-east-1:444444444444:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
      Logs            = ["arn:aws:logs:us-east-1:444444444444:log-group:/aws/lambda/acme-shop-prod-deploy-guard:log-stream:*"]
    })
    error_message = "Each statement must be scoped to exactly this environment's deployment groups, application, services, alarms, topic, key and log group ('*' only for the APIs without resource-level permissions)."
  }

  assert {
    condition = jsonencode({
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid => sort(flatten([s.Action]))
      }) == jsonencode({
      ReadDeployments       = ["codedeploy:GetDeployment", "codedeploy:GetDeploymentGroup", "codedeploy:ListDeployments"]
      ListDeploymentGroups  = ["codedeploy:ListDeploymentGroups"]
      ReportAndStop         = ["codedeploy:PutLifecycleEventHookExecutionStatus", "codedeploy:StopDeployment"]
      DescribeLoadBalancing = ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetHealth"]
      DescribeServices      = ["ecs:DescribeServices"]
      DescribeAlarms        = ["cloudwatch:DescribeAlarms"]
      Notify                = ["sns:Publish"]
      NotifyEncrypted       = ["kms:Decrypt", "kms:GenerateDataKey"]
      Logs                  = ["logs:CreateLogStream", "logs:PutLogEvents"]
    })
    error_message = "The policy must grant exactly the actions the guard calls, without wildcards."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Effect == "Allow" && !can(s.Condition)])
    error_message = "The policy is a list of plain Allow statements."
  }
}

run "alarm_events" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_rule.alarms.name == "acme-shop-prod-deploy-guard-alarms"
    error_message = "The rule must be named {name_prefix}-deploy-guard-alarms."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.alarms.event_pattern) == {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
      detail = {
        alarmName = [
          "acme-shop-prod-api-service-running-tasks",
          "acme-shop-prod-api-service-5xx-rate",
          "acme-shop-prod-auth-service-running-tasks",
        ]
        state = { value = ["ALARM"] }
      }
    }
    error_message = "The rule must match state changes to ALARM of exactly alarm_names."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.alarms.rule == "acme-shop-prod-deploy-guard-alarms"
      && aws_cloudwatch_event_target.alarms.arn == aws_lambda_function.this.arn
    )
    error_message = "The rule must target the function."
  }

  assert {
    condition = (
      aws_lambda_permission.alarms.principal == "events.amazonaws.com"
      && aws_lambda_permission.alarms.action == "lambda:InvokeFunction"
      && aws_lambda_permission.alarms.function_name == "acme-shop-prod-deploy-guard"
      && aws_lambda_permission.alarms.source_arn == aws_cloudwatch_event_rule.alarms.arn
    )
    error_message = "EventBridge may invoke the function only for the module's rule."
  }

  assert {
    condition     = output.event_rule_arn == aws_cloudwatch_event_rule.alarms.arn
    error_message = "The event_rule_arn output must be the rule's ARN."
  }
}

run "longest_prefix_fits" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-produc" # 36 characters
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "ap-southeast-1" # 14 characters, the longest
    }
  }

  assert {
    condition     = length(aws_iam_role.this.name) == 64 && length(aws_lambda_function.this.function_name) <= 64
    error_message = "With the longest prefix and region, the role name must be exactly 64 characters and the function name fit."
  }
}

run "a_validation_window_raises_the_timeout" {
  command = plan

  variables {
    validation_seconds = 60
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 90 && aws_lambda_function.this.environment[0].variables["VALIDATION_SECONDS"] == "60"
    error_message = "A 60 s validation window must reach the function as VALIDATION_SECONDS and raise its timeout to 90 s."
  }
}
