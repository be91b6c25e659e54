# --- The services' health alarms, recorded in the delivery account -----------------
#
# CloudWatch keeps alarm history for two weeks; `deployer report` measures time to
# restore over longer windows from the state changes of each service's health alarm,
# which this rule sends to the delivery account's default event bus (in the delivery
# region) and the delivery stack's rule writes to its log group (events.tf there).
# EventBridge puts the event on that bus as this rule's role: AWS recommends a role
# for every event bus target ("Permissions for event buses in Amazon EventBridge"),
# and the delivery bus's policy admits this account's alarm state changes only.
# In the delivery account's own region the alarms' events are on that bus already
# (a rule cannot target the bus it is on): nothing to send.

locals {
  health_alarm_names  = sort([for name in keys(var.microservices) : local.target.services[name].alarm_names.health])
  alarm_events_name   = "${local.name_prefix}-health-alarm-events"
  delivery_bus_arn    = "arn:${data.aws_partition.current.partition}:events:${local.delivery.region}:${local.delivery.account_id}:event-bus/default"
  alarm_events_source = "arn:${data.aws_partition.current.partition}:events:${var.region}:${var.account_id}:rule/${local.alarm_events_name}"
  send_alarm_events   = !(var.account_id == local.delivery.account_id && var.region == local.delivery.region)
}

data "aws_partition" "current" {}

resource "aws_cloudwatch_event_rule" "health_alarm_events" {
  count = local.send_alarm_events ? 1 : 0

  name        = local.alarm_events_name
  description = "State changes of the services' health alarms, to the delivery account's event bus (${local.delivery.account_id}, ${local.delivery.region}) for deployer report."

  event_pattern = jsonencode({
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    detail = {
      alarmName = local.health_alarm_names
    }
  })
}

resource "aws_cloudwatch_event_target" "health_alarm_events" {
  count = local.send_alarm_events ? 1 : 0

  rule      = aws_cloudwatch_event_rule.health_alarm_events[0].name
  target_id = "delivery-bus"
  arn       = local.delivery_bus_arn
  role_arn  = aws_iam_role.health_alarm_events[0].arn
}

# IAM is global: the role carries the region.
resource "aws_iam_role" "health_alarm_events" {
  count = local.send_alarm_events ? 1 : 0

  name        = "${local.alarm_events_name}-${var.region}"
  description = "EventBridge puts ${local.name_prefix}'s health alarm state changes from ${var.region} on the delivery account's event bus."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridge"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Only for this account's rule (the confused deputy).
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnEquals    = { "aws:SourceArn" = local.alarm_events_source }
      }
    }]
  })
}

resource "aws_iam_role_policy" "health_alarm_events" {
  count = local.send_alarm_events ? 1 : 0

  name = "put-events-on-the-delivery-bus"
  role = aws_iam_role.health_alarm_events[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "DeliveryBus"
      Effect   = "Allow"
      Action   = "events:PutEvents"
      Resource = local.delivery_bus_arn
    }]
  })
}
