output "notifications_topic_arn" {
  description = "ARN of the {name_prefix}-notifications SNS topic (service health, deployment failures, pipeline results)."
  value       = aws_sns_topic.this["notifications"].arn
}

output "approvals_topic_arn" {
  description = "ARN of the {name_prefix}-approvals SNS topic (for the pipeline's manual approval action), or null when enable_approvals_topic is false."
  value       = try(aws_sns_topic.this["approvals"].arn, null)
}

output "alarm_names" {
  description = "Names of each service's three metric alarms (running tasks, unhealthy targets, 5XX rate), keyed by service: the CodeDeploy deployment group's alarm configuration."
  value = {
    for service in keys(var.services) : service => [
      aws_cloudwatch_metric_alarm.running_tasks[service].alarm_name,
      aws_cloudwatch_metric_alarm.unhealthy_targets[service].alarm_name,
      aws_cloudwatch_metric_alarm.http_5xx_rate[service].alarm_name,
    ]
  }
}

output "composite_alarm_names" {
  description = "Name of each service's composite health alarm, keyed by service."
  value       = { for service, alarm in aws_cloudwatch_composite_alarm.health : service => alarm.alarm_name }
}

output "dashboard_name" {
  description = "Name of the {name_prefix}-overview CloudWatch dashboard, or null when there are neither services nor build projects to chart."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "event_rule_arns" {
  description = "ARNs of the EventBridge rules, keyed \"deployment_failure\" and \"pipeline_state\" (only those created)."
  value = merge(
    { for rule in aws_cloudwatch_event_rule.deployment_failure : "deployment_failure" => rule.arn },
    { for rule in aws_cloudwatch_event_rule.pipeline_state : "pipeline_state" => rule.arn },
  )
}

output "notification_rule_arn" {
  description = "ARN of the CodeStar notification rule sending the pipeline's failures and pending approvals to the approvals topic, or null when not created."
  value       = try(aws_codestarnotifications_notification_rule.pipeline[0].arn, null)
}
