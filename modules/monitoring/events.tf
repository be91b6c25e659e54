# Deployment and pipeline events to the topics. Messages go through an input
# transformer: a one-line text naming what happened, with a console link. The
# templates are written as JSON strings by hand, since jsonencode() escapes
# the "<" and ">" of the placeholders.

locals {
  console_host = lookup({
    aws          = "console.aws.amazon.com"
    "aws-cn"     = "console.amazonaws.cn"
    "aws-us-gov" = "console.amazonaws-us-gov.com"
  }, local.partition, "console.aws.amazon.com")

  pipeline_states = ["FAILED", "SUCCEEDED", "STOPPED", "SUPERSEDED"]
  deploy_states   = ["FAILURE", "STOP"]
}

# --- CodeDeploy: deployment failure -----------------------------------------

resource "aws_cloudwatch_event_rule" "deployment_failure" {
  count = var.codedeploy_application_name == null ? 0 : 1

  name        = local.deployment_failure_rule_name
  description = "Failed or stopped deployments of the CodeDeploy application ${var.codedeploy_application_name}, to ${local.topic_names.notifications}."

  event_pattern = jsonencode({
    source        = ["aws.codedeploy"]
    "detail-type" = ["CodeDeploy Deployment State-change Notification"]
    detail = {
      application = [var.codedeploy_application_name]
      state       = local.deploy_states
    }
  })
}

resource "aws_cloudwatch_event_target" "deployment_failure" {
  count = var.codedeploy_application_name == null ? 0 : 1

  rule      = aws_cloudwatch_event_rule.deployment_failure[0].name
  target_id = "notifications"
  arn       = aws_sns_topic.this["notifications"].arn

  input_transformer {
    input_paths = {
      application = "$.detail.application"
      group       = "$.detail.deploymentGroup"
      deployment  = "$.detail.deploymentId"
      state       = "$.detail.state"
    }
    input_template = "\"Deployment failure: CodeDeploy deployment <deployment> of <application>/<group> ended in state <state>. https://${local.console_host}/codesuite/codedeploy/deployments/<deployment>?region=${local.region}\""
  }

  depends_on = [aws_sns_topic_policy.this]
}

# --- CodePipeline: execution results ----------------------------------------

resource "aws_cloudwatch_event_rule" "pipeline_state" {
  count = var.pipeline_name == null ? 0 : 1

  name        = local.pipeline_state_rule_name
  description = "Finished executions (${join(", ", local.pipeline_states)}) of the pipeline ${var.pipeline_name}, to ${local.topic_names.notifications}."

  event_pattern = jsonencode({
    source        = ["aws.codepipeline"]
    "detail-type" = ["CodePipeline Pipeline Execution State Change"]
    detail = {
      pipeline = [var.pipeline_name]
      state    = local.pipeline_states
    }
  })
}

resource "aws_cloudwatch_event_target" "pipeline_state" {
  count = var.pipeline_name == null ? 0 : 1

  rule      = aws_cloudwatch_event_rule.pipeline_state[0].name
  target_id = "notifications"
  arn       = aws_sns_topic.this["notifications"].arn

  input_transformer {
    input_paths = {
      pipeline  = "$.detail.pipeline"
      state     = "$.detail.state"
      execution = "$.detail.execution-id"
    }
    input_template = "\"Pipeline <pipeline> execution <execution>: <state>. https://${local.console_host}/codesuite/codepipeline/pipelines/<pipeline>/executions/<execution>/timeline?region=${local.region}\""
  }

  depends_on = [aws_sns_topic_policy.this]
}

# --- CodeStar notifications: approvals needed and failures -------------------

resource "aws_codestarnotifications_notification_rule" "pipeline" {
  count = local.enable_pipeline_notifications ? 1 : 0

  name        = local.pipeline_notification_name
  resource    = "arn:${local.partition}:codepipeline:${local.region}:${local.account_id}:${var.pipeline_name}"
  detail_type = "FULL"
  event_type_ids = [
    "codepipeline-pipeline-manual-approval-needed",
    "codepipeline-pipeline-pipeline-execution-failed",
  ]

  target {
    type    = "SNS"
    address = aws_sns_topic.this["approvals"].arn
  }

  # CodeStar Notifications marks a target it may not publish to unreachable.
  depends_on = [aws_sns_topic_policy.this]
}
