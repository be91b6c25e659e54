data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  function_name  = "${var.name_prefix}-deploy-guard"
  log_group_name = "/aws/lambda/${local.function_name}"
  rule_name      = "${var.name_prefix}-deploy-guard-alarms"
  # IAM is global: the region keeps the role name unique when the same prefix
  # is deployed to several regions of one account.
  role_name = "${var.name_prefix}-deploy-guard-${local.region}"

  # What the function may touch: this application's deployment groups, this
  # cluster's services, these alarms.
  codedeploy_arn  = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}"
  application_arn = "${local.codedeploy_arn}:application:${var.codedeploy_application_name}"
  deployment_group_arns = [
    for name in var.deployment_group_names :
    "${local.codedeploy_arn}:deploymentgroup:${var.codedeploy_application_name}/${name}"
  ]
  service_arns = [
    for name in var.service_names :
    "arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/${var.cluster_name}/${name}"
  ]
  alarm_arns = [
    for name in var.alarm_names :
    "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${name}"
  ]
}

# --- Function ------------------------------------------------------------------

# Created before the function, so that Lambda never creates it itself
# (without retention or encryption).
resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days input (30 days by default): the guard's decisions are also published to the notifications topic, a year of function logs is not required.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls AWS APIs (CodeDeploy, ELB, ECS, CloudWatch, SNS); the runtime VPC has no endpoints for most of them, so inside it every call would leave through the NAT gateways anyway.
  #checkov:skip=CKV_AWS_272:The zip is built by the deployer from the repository (deterministically, hash pinned in source_code_hash); there is no signing profile in the delivery pipeline to sign it with.
  #checkov:skip=CKV_AWS_173:The environment holds no secret (the CodeDeploy application name and the topic ARN); Lambda encrypts it at rest with its own key.
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to the notifications topic through an on-failure destination (aws_lambda_function_event_invoke_config), which also carries the error; a dead-letter queue would only duplicate it.
  #checkov:skip=CKV_AWS_115:No reserved concurrency: reserving it takes capacity from the account's unreserved pool (at least 10 must stay unreserved), and the guard runs a few times per deployment.
  function_name    = local.function_name
  description      = "Deploy guard of ${var.codedeploy_application_name}: CodeDeploy lifecycle hook checks and alarm-driven rollback."
  role             = aws_iam_role.this.arn
  runtime          = "python3.12"
  handler          = "deploy_guard.handler.handler"
  filename         = var.package_path
  source_code_hash = var.package_hash
  timeout          = max(var.timeout_seconds, var.validation_seconds + 30)
  memory_size      = var.memory_mb

  environment {
    variables = {
      APPLICATION_NAME   = var.codedeploy_application_name
      TOPIC_ARN          = var.notifications_topic_arn
      VALIDATION_SECONDS = tostring(var.validation_seconds)
    }
  }

  tracing_config {
    mode = "PassThrough"
  }

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

# An asynchronous invocation (EventBridge's; CodeDeploy's hooks) that still
# fails after Lambda's retries (a timeout, a crash) is sent to the
# notifications topic with its error, so people hear that the guard itself
# failed. Retries stop after an hour: CodeDeploy waits no longer for a hook.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination = var.notifications_topic_arn
    }
  }
}

# --- Alarm events ----------------------------------------------------------------

# CodeDeploy invokes the function for the lifecycle hooks through its own
# service role (the ecs-cluster module allows lambda:InvokeFunction on
# {name_prefix}-*); EventBridge needs this rule and a resource policy.
resource "aws_cloudwatch_event_rule" "alarms" {
  name        = local.rule_name
  description = "The services' alarms going to ALARM, to the deploy guard (${local.function_name}), which stops the deployments in progress with rollback."

  event_pattern = jsonencode({
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    detail = {
      alarmName = var.alarm_names
      state     = { value = ["ALARM"] }
    }
  })
}

resource "aws_cloudwatch_event_target" "alarms" {
  rule      = aws_cloudwatch_event_rule.alarms.name
  target_id = "deploy-guard"
  arn       = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "alarms" {
  statement_id  = "AlarmEvents"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.alarms.arn
}
