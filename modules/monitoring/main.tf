data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  # Topics, keyed by role: the notifications topic always, the approvals
  # topic only when enabled.
  topic_names = merge(
    { notifications = "${var.name_prefix}-notifications" },
    var.enable_approvals_topic ? { approvals = "${var.name_prefix}-approvals" } : {},
  )

  # One email subscription per topic and address, keyed "<topic>/<address>".
  email_subscriptions = {
    for pair in setproduct(keys(local.topic_names), var.notification_emails) :
    "${pair[0]}/${pair[1]}" => { topic = pair[0], email = pair[1] }
  }

  # Per service: the three metric alarms (in the order of the alarm_names
  # output) and the composite alarm over them.
  alarm_names = {
    for service in keys(var.services) : service => {
      running_tasks     = "${var.name_prefix}-${service}-running-tasks"
      unhealthy_targets = "${var.name_prefix}-${service}-unhealthy-targets"
      http_5xx_rate     = "${var.name_prefix}-${service}-5xx-rate"
      health            = "${var.name_prefix}-${service}-health"
    }
  }

  deployment_failure_rule_name = "${var.name_prefix}-deployment-failure"
  pipeline_state_rule_name     = "${var.name_prefix}-pipeline-state"
  pipeline_notification_name   = "${var.name_prefix}-pipeline-approvals"
  dashboard_name               = "${var.name_prefix}-overview"

  enable_pipeline_notifications = var.enable_approvals_topic && var.pipeline_name != null
}

# --- SNS topics --------------------------------------------------------------

resource "aws_sns_topic" "this" {
  for_each = local.topic_names

  name              = each.value
  kms_master_key_id = var.kms_key_arn
}

# Replaces the default topic policy. Principals of this account keep access
# through their IAM policies; the services that notify (EventBridge rules,
# CloudWatch alarms, CodeStar notification rules) may publish only on behalf
# of this account (confused-deputy protection).
resource "aws_sns_topic_policy" "this" {
  for_each = local.topic_names

  arn = aws_sns_topic.this[each.key].arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ServicesPublish"
        Effect = "Allow"
        Principal = {
          Service = [
            "cloudwatch.amazonaws.com",
            "codestar-notifications.amazonaws.com",
            "events.amazonaws.com",
          ]
        }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this[each.key].arn
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = ["sns:Publish", "sns:Subscribe"]
        Resource  = aws_sns_topic.this[each.key].arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.email_subscriptions

  topic_arn = aws_sns_topic.this[each.value.topic].arn
  protocol  = "email"
  endpoint  = each.value.email
}
