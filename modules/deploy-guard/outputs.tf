output "function_arn" {
  description = "ARN of the deploy guard function: the appspec's AfterAllowTestTraffic and AfterAllowTraffic hooks name it."
  value       = aws_lambda_function.this.arn
}

output "function_name" {
  description = "Name of the deploy guard function ({name_prefix}-deploy-guard)."
  value       = aws_lambda_function.this.function_name
}

output "role_arn" {
  description = "ARN of the function's execution role ({name_prefix}-deploy-guard-{region})."
  value       = aws_iam_role.this.arn
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that sends the alarms' changes to ALARM to the function ({name_prefix}-deploy-guard-alarms)."
  value       = aws_cloudwatch_event_rule.alarms.arn
}

output "log_group_name" {
  description = "Name of the function's log group (/aws/lambda/{name_prefix}-deploy-guard)."
  value       = aws_cloudwatch_log_group.this.name
}
