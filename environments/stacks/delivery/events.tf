# --- The runtime environments' health alarm events, recorded for deployer report ----
#
# CloudWatch keeps alarm history for two weeks. Each runtime workspace's rule sends
# the state changes of its services' health alarms to this account's default event
# bus (runtime stack, events.tf); the rule here writes them to a log group kept for
# more than a year, which `deployer report` reads for the part of a window older than
# CloudWatch's two weeks ("Sending and receiving events between AWS accounts in Amazon
# EventBridge"; CloudWatch Logs as a target: the event's JSON is the log message).

locals {
  # deployer/report.py's alarm_events_log_group() gives the same name
  # (tests/unit/test_report.py holds the two equal).
  alarm_events_log_group = "/aws/events/${local.name_prefix}-alarm-state-changes"
  alarm_events_rule      = "${local.name_prefix}-alarm-state-changes"
  # A year's report, with a month to spare (a value CloudWatch Logs accepts).
  alarm_events_retention_days = 400

  health_alarm_names = sort(distinct(flatten([
    for target in values(local.targets) : [for s in values(target.services) : s.alarm_names.health]
  ])))
}

data "aws_partition" "current" {}

# The default bus admits the runtime accounts' alarm state changes and nothing else
# of theirs: PutEvents from each account, for that source and detail type only.
resource "aws_cloudwatch_event_bus_policy" "alarm_events" {
  event_bus_name = "default"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "RuntimeAccountsAlarmStateChanges"
      Effect    = "Allow"
      Principal = { AWS = [for id in module.naming.target_accounts : "arn:${data.aws_partition.current.partition}:iam::${id}:root"] }
      Action    = "events:PutEvents"
      Resource  = "arn:${data.aws_partition.current.partition}:events:${var.region}:${var.account_id}:event-bus/default"
      Condition = {
        StringEquals = {
          "events:source"      = "aws.cloudwatch"
          "events:detail-type" = "CloudWatch Alarm State Change"
        }
      }
    }]
  })
}

resource "aws_cloudwatch_log_group" "alarm_events" {
  name              = local.alarm_events_log_group
  retention_in_days = local.alarm_events_retention_days
  kms_key_id        = module.artifacts.kms_key_arn
}

resource "aws_cloudwatch_event_rule" "alarm_events" {
  name        = local.alarm_events_rule
  description = "State changes of the runtime environments' health alarms, to ${local.alarm_events_log_group} for deployer report."

  event_pattern = jsonencode({
    account       = module.naming.target_accounts
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    detail = {
      alarmName = local.health_alarm_names
    }
  })
}

resource "aws_cloudwatch_event_target" "alarm_events" {
  rule      = aws_cloudwatch_event_rule.alarm_events.name
  target_id = "log-group"
  arn       = aws_cloudwatch_log_group.alarm_events.arn

  depends_on = [aws_cloudwatch_log_resource_policy.alarm_events]
}

# EventBridge writes to CloudWatch Logs under the log group's resource policy, not a
# role ("Using resource-based policies for Amazon EventBridge", CloudWatch Logs).
resource "aws_cloudwatch_log_resource_policy" "alarm_events" {
  policy_name = local.alarm_events_rule

  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeWritesAlarmStateChanges"
      Effect    = "Allow"
      Principal = { Service = ["events.amazonaws.com", "delivery.logs.amazonaws.com"] }
      Action    = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource  = "${aws_cloudwatch_log_group.alarm_events.arn}:*"
    }]
  })
}
