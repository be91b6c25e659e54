output "alb_arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer dimension of its CloudWatch metrics)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Canonical hosted zone ID of the load balancer (the zone_id of a Route 53 alias to it)."
  value       = aws_lb.this.zone_id
}

output "alb_security_group_id" {
  description = "ID of the load balancer's security group."
  value       = aws_security_group.alb.id
}

output "task_security_group_id" {
  description = "ID of the tasks' security group (add egress rules here for what the service calls besides AWS APIs)."
  value       = aws_security_group.tasks.id
}

output "production_listener_arn" {
  description = "ARN of the production listener (CodeDeploy's production traffic route)."
  value       = aws_lb_listener.production.arn
}

output "test_listener_arn" {
  description = "ARN of the test listener (CodeDeploy's test traffic route)."
  value       = aws_lb_listener.test.arn
}

output "target_group_names" {
  description = "Names of the two target groups, keyed blue and green."
  value       = { for color, tg in aws_lb_target_group.this : color => tg.name }
}

output "target_group_arns" {
  description = "ARNs of the two target groups, keyed blue and green."
  value       = { for color, tg in aws_lb_target_group.this : color => tg.arn }
}

output "target_group_arn_suffixes" {
  description = "ARN suffixes of the two target groups, keyed blue and green (the TargetGroup dimension of their CloudWatch metrics)."
  value       = { for color, tg in aws_lb_target_group.this : color => tg.arn_suffix }
}

output "service_name" {
  description = "Name of the ECS service ({name_prefix}-{microservice})."
  value       = aws_ecs_service.this.name
}

output "service_arn" {
  description = "ARN of the ECS service."
  value       = aws_ecs_service.this.id
}

output "task_definition_family" {
  description = "Family of the service's task definition ({name_prefix}-{microservice})."
  value       = aws_ecs_task_definition.this.family
}

output "task_definition_arn" {
  description = "ARN of the baseline task definition revision Terraform registered (later revisions come from the pipeline)."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "ARN of the task role ({name_prefix}-{short_name}-task-{region})."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the execution role ({name_prefix}-{short_name}-exec-{region})."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "Name of the tasks' log group (/ecs/{name_prefix}/{microservice})."
  value       = aws_cloudwatch_log_group.this.name
}

output "deployment_group_name" {
  description = "Name of the CodeDeploy deployment group ({name_prefix}-{microservice})."
  value       = aws_codedeploy_deployment_group.this.deployment_group_name
}

output "endpoint_url" {
  description = "URL of the service's production listener: http(s)://<load balancer DNS name>, with the port when it is not the protocol's default."
  value       = "${lower(local.listener_protocol)}://${aws_lb.this.dns_name}${local.endpoint_port_suffix}"
}
