# Per service, three metric alarms and a composite alarm over them. The
# metric alarms have no actions of their own: they feed the composite alarm
# (which notifies, once, on ALARM and on OK) and the CodeDeploy deployment
# group's alarm configuration (which stops a deployment while one is in ALARM).

locals {
  thresholds = var.alarm_thresholds

  # Target group metric query IDs must start with a lowercase letter.
  target_groups = {
    for service, s in var.services : service => {
      for index, suffix in s.target_group_arn_suffixes : "tg${index}" => suffix
    }
  }
}

# Fewer tasks running than desired (Container Insights must be enabled on the
# cluster): RunningTaskCount over DesiredTaskCount, both as Container Insights
# publishes them, so the alarm holds no task count of its own and follows the
# service's desired count wherever it is set (an apply, a failover scaling the DR
# region, CodeDeploy). No data means no task reports at all, so it counts as
# breaching (a desired count of 0 gives no ratio either).
resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  for_each = var.services

  alarm_name        = local.alarm_names[each.key].running_tasks
  alarm_description = "${each.key}: fewer than ${local.thresholds.running_tasks_min_ratio * 100}% of the desired tasks running in ${each.value.service_name}."

  comparison_operator = "LessThanThreshold"
  threshold           = local.thresholds.running_tasks_min_ratio
  evaluation_periods  = local.thresholds.evaluation_periods
  treat_missing_data  = "breaching"

  metric_query {
    id          = "ratio"
    label       = "Running / desired tasks"
    expression  = "running / desired"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { running = "RunningTaskCount", desired = "DesiredTaskCount" }

    content {
      id = metric_query.key

      metric {
        namespace   = "ECS/ContainerInsights"
        metric_name = metric_query.value
        dimensions = {
          ClusterName = each.value.cluster_name
          ServiceName = each.value.service_name
        }
        stat   = "Average"
        period = local.thresholds.period_seconds
      }
    }
  }
}

# Unhealthy targets in any of the service's target groups (blue and green):
# one alarm per service over the maximum of the target groups (metric math),
# so that the CodeDeploy deployment group watches a fixed list of three
# alarms per service whichever target group is live. A target group that
# reports nothing (no targets registered) does not count.
resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  for_each = var.services

  alarm_name        = local.alarm_names[each.key].unhealthy_targets
  alarm_description = "${each.key}: more than ${local.thresholds.unhealthy_targets} unhealthy targets in a target group of ${each.value.alb_arn_suffix}."

  comparison_operator = "GreaterThanThreshold"
  threshold           = local.thresholds.unhealthy_targets
  evaluation_periods  = local.thresholds.evaluation_periods
  treat_missing_data  = "notBreaching"

  # With a single target group the alarm watches its metric directly (MAX of
  # a one-element array would be a scalar, not a time series).
  dynamic "metric_query" {
    for_each = length(local.target_groups[each.key]) > 1 ? [join(", ", keys(local.target_groups[each.key]))] : []

    content {
      id          = "unhealthy"
      label       = "Unhealthy targets (max over target groups)"
      expression  = "MAX([${metric_query.value}])"
      return_data = true
    }
  }

  dynamic "metric_query" {
    for_each = local.target_groups[each.key]

    content {
      id          = metric_query.key
      return_data = length(local.target_groups[each.key]) == 1

      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = "UnHealthyHostCount"
        dimensions = {
          LoadBalancer = each.value.alb_arn_suffix
          TargetGroup  = metric_query.value
        }
        stat   = "Maximum"
        period = local.thresholds.period_seconds
      }
    }
  }
}

# Share of requests answered 5XX by the targets. Periods without requests or
# without errors (the load balancer then reports no 5XX datapoint) give no
# value, which is not breaching.
resource "aws_cloudwatch_metric_alarm" "http_5xx_rate" {
  for_each = var.services

  alarm_name        = local.alarm_names[each.key].http_5xx_rate
  alarm_description = "${each.key}: more than ${local.thresholds.http_5xx_rate_percent}% of requests to ${each.value.alb_arn_suffix} answered 5XX by the targets."

  comparison_operator = "GreaterThanThreshold"
  threshold           = local.thresholds.http_5xx_rate_percent
  evaluation_periods  = local.thresholds.evaluation_periods
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "rate"
    label       = "Target 5XX rate (%)"
    expression  = "100 * errors / requests"
    return_data = true
  }

  metric_query {
    id          = "errors"
    return_data = false

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = each.value.alb_arn_suffix }
      stat        = "Sum"
      period      = local.thresholds.period_seconds
    }
  }

  metric_query {
    id          = "requests"
    return_data = false

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = { LoadBalancer = each.value.alb_arn_suffix }
      stat        = "Sum"
      period      = local.thresholds.period_seconds
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "health" {
  for_each = var.services

  alarm_name        = local.alarm_names[each.key].health
  alarm_description = "${each.key} is unhealthy: tasks missing, unhealthy targets or a high 5XX rate."

  alarm_rule = join(" OR ", [
    for name in [
      aws_cloudwatch_metric_alarm.running_tasks[each.key].alarm_name,
      aws_cloudwatch_metric_alarm.unhealthy_targets[each.key].alarm_name,
      aws_cloudwatch_metric_alarm.http_5xx_rate[each.key].alarm_name,
    ] : "ALARM(\"${name}\")"
  ])

  actions_enabled = true
  alarm_actions   = [aws_sns_topic.this["notifications"].arn]
  ok_actions      = [aws_sns_topic.this["notifications"].arn]

  # The topic policy lets CloudWatch publish; have it in place before the
  # alarm can change state.
  depends_on = [aws_sns_topic_policy.this]
}
