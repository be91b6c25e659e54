output "vpc_id" {
  description = "ID of this region's VPC."
  value       = module.network.vpc_id
}

output "public_subnet_ids" {
  description = "Public subnets (the load balancers), one per availability zone."
  value       = module.network.public_subnet_ids
}

output "private_subnet_ids" {
  description = "Private subnets (Fargate tasks), one per availability zone."
  value       = module.network.private_subnet_ids
}

output "service_endpoints" {
  description = "Production endpoint (load balancer URL) of each microservice."
  value       = { for name, s in module.service : name => s.endpoint_url }
}

output "load_balancer_dns_names" {
  description = "DNS name of each microservice's load balancer."
  value       = { for name, s in module.service : name => s.alb_dns_name }
}

output "cluster_name" {
  description = "The environment's ECS cluster in this region."
  value       = module.cluster.cluster_name
}

output "codedeploy_application_name" {
  description = "CodeDeploy application of the environment's blue/green deployments."
  value       = module.cluster.codedeploy_app_name
}

output "deployment_group_names" {
  description = "CodeDeploy deployment group of each microservice."
  value       = { for name, s in module.service : name => s.deployment_group_name }
}

output "deploy_role_arn" {
  description = "Role the delivery pipeline assumes to deploy here."
  value       = module.deploy_role.role_arn
}

output "ci_read_role_arn" {
  description = "Role CI plans and drift checks assume here (deployer plan --read-only); null without ci.github."
  value       = try(module.ci_read_role[0].role_arn, null)
}

output "notifications_topic_arn" {
  description = "SNS topic for alarms, deployment failures and rollbacks."
  value       = module.monitoring.notifications_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the environment's services."
  value       = module.monitoring.dashboard_name
}

output "parameters_kms_alias_name" {
  description = "Alias of the key SecureString parameters are written with."
  value       = module.parameters.kms_alias_name
}

output "parameter_paths" {
  description = "SSM Parameter Store namespace of each microservice."
  value       = module.parameters.parameter_paths
}

output "deploy_guard_function_name" {
  description = "The deploy guard Lambda (CodeDeploy lifecycle hooks, alarm-driven rollback)."
  value       = module.deploy_guard.function_name
}

output "service_urls" {
  description = "HTTPS URL of each microservice at its failover name (dns.zone); {} without dns."
  value       = { for name, d in module.dns : name => d.url }
}

output "dns_health_check_ids" {
  description = "Route 53 health check of each microservice's load balancer in this region (in the zone's account); {} without dns."
  value       = { for name, d in module.dns : name => d.health_check_id }
}

output "traffic_switch_alarm_name" {
  description = "The traffic switch's CloudWatch alarm (in the zone's account and the DR region), created by the primary region's workspace of an environment with dns and two regions; null otherwise."
  value       = try(aws_cloudwatch_metric_alarm.traffic_switch[0].alarm_name, null)
}
